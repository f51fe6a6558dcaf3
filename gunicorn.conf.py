"""gunicorn reads this file from the working directory by itself (``gunicorn core.wsgi``).

Workers are ``gthread``: each process serves ``GUNICORN_THREADS`` requests at once and keeps a
client's connection open for ``GUNICORN_KEEPALIVE`` seconds between requests. The sync worker
closed every connection after its response, so a partner paging through a list paid a TCP
handshake (and the worker a new socket) per page; with threads, a request waiting on PostgreSQL
no longer holds the whole process. Each thread keeps its own database connection
(``CONN_MAX_AGE``): workers x threads connections per host. ``--workers`` and the other options on
the command line still win over these.

With ``PROMETHEUS_MULTIPROC_DIR`` set, a worker that exits (a restart, ``max_requests``, a timeout)
drops its live gauges from the folder; its counters and histograms stay in the sums /metrics serves.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
