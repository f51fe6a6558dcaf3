"""gunicorn reads this file from the working directory by itself (``gunicorn core.wsgi``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, a worker that exits (a restart, ``max_requests``, a timeout)
drops its live gauges from the folder; its counters and histograms stay in the sums /metrics serves.
"""

import os


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
