"""``python -m bench.run``: the benchmark suite, in a database of its own, one report.

Each case runs its baselines in the same process on the same data and reports ratios beside the
absolute figures. Results go to bench/results/latest.json and latest.md (not committed).
The bench uses its own database (``tripline_bench``, or BENCH_DATABASE) and its own Redis database
number (7, or BENCH_REDIS_DB), so neither user data nor a test run's queues are touched.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

RESULTS = Path(__file__).resolve().parent / "results"
CASES = [
    "ingestion",
    "evaluation",
    "forecast",
    "warnings_backtest",
    "webhooks",
    "transfer_plan",
    "api_load",
    "console",
]


def _bench_database_name() -> str:
    """``tripline_bench``, or BENCH_DATABASE: two benches on one server keep apart."""
    name = os.environ.get("BENCH_DATABASE", "tripline_bench")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"BENCH_DATABASE must be letters, digits and underscores, not {name!r}")
    return name


def _bench_database_url(base_url: str) -> str:
    """The same server as the platform's, database ``tripline_bench``: user data is never touched."""
    import psycopg

    name = _bench_database_name()
    parts = urlsplit(base_url)
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(base_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return bench_url


def _bench_redis_url(base_url: str) -> str:
    """The same Redis server, database number 7 (BENCH_REDIS_DB): the bench may flush it."""
    number = os.environ.get("BENCH_REDIS_DB", "7")
    parts = urlsplit(base_url)
    if parts.scheme == "unix":  # the embedded Redis: the database is a query parameter
        query = dict(parse_qsl(parts.query))
        query["db"] = number
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"  # urlunsplit would drop the //
    return urlunsplit(parts._replace(path=f"/{number}"))


def _drop_bench_database(base_url: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_bench_database_name()}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default=os.environ.get("BENCH_SCALE", "small"), choices=["small", "medium", "large"])
    parser.add_argument(
        "--case",
        action="append",
        choices=CASES,
        help="Run only these cases (default: all, or the comma-separated BENCH_CASES).",
    )
    args = parser.parse_args(argv)
    if not args.case and os.environ.get("BENCH_CASES"):
        args.case = [name.strip() for name in os.environ["BENCH_CASES"].split(",") if name.strip()]
        unknown = set(args.case) - set(CASES)
        if unknown:
            parser.error(f"BENCH_CASES names unknown cases {sorted(unknown)}; known: {CASES}")

    from core import embedded_services

    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("WEBHOOK_ALLOW_LOOPBACK", "1")  # the webhooks case delivers to 127.0.0.1
    # The cases send many clients' worth of requests on one key from one address, in-process and to
    # gunicorn (which inherits this environment): the limits count each one but refuse none.
    for name in ("THROTTLE_KEY_BURST_RATE", "THROTTLE_ADDRESS_BURST_RATE"):
        os.environ.setdefault(name, "1000000/min")
    for name in ("THROTTLE_KEY_RATE", "THROTTLE_ADDRESS_RATE"):
        os.environ.setdefault(name, "100000000/hour")
    base_url = os.environ.get("DATABASE_URL") or embedded_services.ensure_postgres_url()
    os.environ["DATABASE_URL"] = _bench_database_url(base_url)
    os.environ["REDIS_URL"] = _bench_redis_url(os.environ.get("REDIS_URL") or embedded_services.ensure_redis_url())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.main")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log growing through a million lines

    from bench import api_load, console, evaluation, forecast, ingestion, transfer_plan, warnings_backtest, webhooks
    from bench.harness import SCALES, Case

    print(f"Benchmark scale {args.scale}; database {urlsplit(os.environ['DATABASE_URL']).path[1:]}", file=sys.stderr)
    call_command("migrate", interactive=False, verbosity=0)
    postgresql = _server_version()  # read now: the bench database is dropped at the end
    case = Case(scale=SCALES[args.scale])
    figures = {}
    started = time.perf_counter()
    try:
        for name in args.case or CASES:
            print(f"== {name}", file=sys.stderr)
            runners = {
                "ingestion": ingestion.run,
                "evaluation": evaluation.run,
                "forecast": forecast.run,
                "warnings_backtest": warnings_backtest.run,
                "webhooks": webhooks.run,
                "transfer_plan": transfer_plan.run,
                "api_load": api_load.run,
                "console": console.run,
            }
            figures[name] = runners[name](case)
    finally:
        from django.db import connections

        connections.close_all()
        if not os.environ.get("BENCH_KEEP"):
            _drop_bench_database(base_url)
    report = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "postgresql": postgresql,
        "seconds": round(time.perf_counter() - started, 1),
        "figures": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    table = _markdown(report)
    (RESULTS / "latest.md").write_text(table)
    print(table)
    return 0


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _markdown(report: dict) -> str:
    lines = [
        f"Scale {report['scale']}, {report['cores']} cores, {report['memory_gib']} GiB, "
        f"PostgreSQL {report['postgresql']}, Python {report['python']}, {report['date']}",
        "",
        "| case | figure | value |",
        "| --- | --- | --- |",
    ]
    for case, figures in report["figures"].items():
        for name, value in figures.items():
            lines.append(
                f"| {case} | {name} | {value:,} |" if isinstance(value, int) else f"| {case} | {name} | {value} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
