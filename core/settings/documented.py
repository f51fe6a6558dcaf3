"""Every environment variable Tripline reads, documented in one place.

``docs/reference/settings.md`` and ``.env.example`` are generated from this registry
(``make docs``), and a test holds it and ``core/settings/main.py`` to the same set of names, so a
variable cannot be added, renamed or dropped on one side only.

This module imports nothing from Django or the project: the settings themselves may import it.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

MAIN = "core/settings/main.py"


@dataclass(frozen=True)
class Setting:
    """One environment variable.

    ``default`` and ``meaning`` are Markdown, as the reference shows them. ``example`` is the value
    ``.env.example`` gives it (a deployment usually sets it); ``None`` leaves it out of that file.
    ``read_in`` names the file that reads it.
    """

    name: str
    section: str
    default: str
    meaning: str
    example: str | None = None
    read_in: str = MAIN


# The order of the reference and of .env.example, with what each section is about.
SECTIONS: dict[str, str] = {
    "Services": (
        "where PostgreSQL and Redis are; with neither URL set, the embedded ones under `.tripline/`, "
        "which `make demo` and `make test` start (`make services-start` for other commands)"
    ),
    "Security": "HTTPS, cookies and hosts; with `DEBUG` off the defaults pass `manage.py check --deploy`",
    "Request limits": (
        "a rate reads `3000/min`, `60000/hour` or `30/10min`; `off` lifts it (see [Limits](../api.md#limits))"
    ),
    "API keys": "the keys partners and scripts authenticate with",
    "Bulk ingestion": "the bulk endpoints and what they keep (see [Bulk ingestion](../ingestion.md))",
    "Warning engine": "how the engine runs (see [How it runs](../engine.md#how-it-runs))",
    "Forecasting": "how forecasts are refreshed (see [Refresh](../forecasting.md#refresh))",
    "Quality": "the warnings' replay backtest (see [Warning backtests](../quality-backtests.md))",
    "Procurement": "the procurement sweep (see [Procurement and playbooks](../procurement.md))",
    "Transfers": "transfer plans (see [Plans](../transfers.md#plans))",
    "Webhooks": "the outbox relay and deliveries (see [Webhooks](../webhooks.md))",
    "Mail": "RFQ invitations to suppliers and notices to tenant admins",
    "Workers and logs": "gunicorn's threads, Celery tasks and the log level",
    "Metrics and logs": (
        "`/metrics` for Prometheus and the structured logs (see [Metrics and logs](../operations.md#metrics-and-logs))"
    ),
}

SETTINGS: tuple[Setting, ...] = (
    # --- Services
    Setting(
        "DATABASE_URL",
        "Services",
        "embedded server in `.tripline/pg`",
        "PostgreSQL (`postgresql://user:pass@host:5432/db`)",
        example="postgresql://tripline:secret@db.internal:5432/tripline",
    ),
    Setting(
        "REDIS_URL",
        "Services",
        "embedded server in `.tripline/redis`",
        "Redis for Celery and the cache (`redis://host:port/N` or `unix:///path.sock?db=N`)",
        example="redis://redis.internal:6379/0",
    ),
    Setting(
        "CONN_MAX_AGE",
        "Services",
        "60",
        "seconds a database connection is kept (0 closes it after each request)",
        example="60",
    ),
    Setting(
        "DATABASE_POOLER",
        "Services",
        "unset (connections straight to PostgreSQL)",
        "`transaction` when `DATABASE_URL` names a pooler in transaction mode (PgBouncer): turns off what "
        "would outlive a transaction on a pooled connection (see [Scaling](../scaling.md#pgbouncer))",
    ),
    Setting(
        "DATABASE_REPLICA_URL",
        "Services",
        "unset (every query to `DATABASE_URL`)",
        "a streaming replica of `DATABASE_URL`'s database: GET and HEAD requests read from it while it is at "
        "most `REPLICA_MAX_LAG_SECONDS` behind, except a caller's own reads for that long after it wrote "
        "(see [Scaling](../scaling.md#read-replicas))",
    ),
    Setting(
        "REPLICA_MAX_LAG_SECONDS",
        "Services",
        "5",
        "how far behind the replica may be (seconds of replay) before reads go to the primary",
    ),
    Setting(
        "REDIS_SENTINELS",
        "Services",
        "unset (Redis at `REDIS_URL`)",
        "Redis Sentinel addresses, `host:port` comma-separated: the cache, Celery and the request counters "
        "reach the primary they name, and follow a failover; `REDIS_URL` then gives only the database number "
        "and the password (see [Scaling](../scaling.md#redis-sentinel))",
    ),
    Setting(
        "REDIS_SENTINEL_MASTER",
        "Services",
        "`tripline`",
        "the name the sentinels monitor the primary under (`sentinel monitor <name> ...`)",
    ),
    Setting(
        "TRIPLINE_STATE_DIR",
        "Services",
        "`.tripline/` in the checkout",
        "where the embedded PostgreSQL and Redis keep their data",
        read_in="core/embedded_services.py",
    ),
    # --- Security
    Setting("DEBUG", "Security", "off (`make demo` sets it)", "`1` for local development only", example="0"),
    Setting(
        "SECRET_KEY",
        "Security",
        "required unless `DEBUG=1`",
        "50+ random characters",
        example="change-me-to-50-or-more-random-characters-------------------------------",
    ),
    Setting(
        "ALLOWED_HOSTS",
        "Security",
        "local hosts with `DEBUG`, else none",
        "host names this deployment answers to, comma-separated",
        example="tripline.example.com",
    ),
    Setting(
        "CSRF_TRUSTED_ORIGINS",
        "Security",
        "none",
        "origins trusted for unsafe requests with a session, comma-separated",
        example="https://tripline.example.com",
    ),
    Setting(
        "SECURE_SSL_REDIRECT",
        "Security",
        "on when `DEBUG` is off",
        "redirect plain HTTP to HTTPS (the health probes are exempt)",
        example="1",
    ),
    Setting(
        "SECURE_HSTS_SECONDS",
        "Security",
        "31536000 when `DEBUG` is off, else 0",
        "`Strict-Transport-Security` max-age",
        example="31536000",
    ),
    Setting("SECURE_HSTS_INCLUDE_SUBDOMAINS", "Security", "on when `DEBUG` is off", "HSTS for subdomains as well"),
    Setting("SECURE_HSTS_PRELOAD", "Security", "on when `DEBUG` is off", "ask browsers to preload HSTS"),
    Setting("SESSION_COOKIE_SECURE", "Security", "on when `DEBUG` is off", "session cookie over HTTPS only"),
    Setting("CSRF_COOKIE_SECURE", "Security", "on when `DEBUG` is off", "CSRF cookie over HTTPS only"),
    Setting(
        "SECURE_PROXY_SSL_HEADER",
        "Security",
        "off",
        "`1` behind a TLS-terminating proxy that sets `X-Forwarded-Proto` (else the redirect loops)",
        example="1",
    ),
    # --- Request limits
    Setting(
        "THROTTLE_KEY_BURST_RATE", "Request limits", "`3000/min`", "requests per API key, burst", example="3000/min"
    ),
    Setting(
        "THROTTLE_KEY_RATE", "Request limits", "`60000/hour`", "requests per API key, sustained", example="60000/hour"
    ),
    Setting(
        "THROTTLE_USER_BURST_RATE",
        "Request limits",
        "`1200/min`",
        "requests per staff session user, burst",
        example="1200/min",
    ),
    Setting(
        "THROTTLE_USER_RATE",
        "Request limits",
        "`20000/hour`",
        "requests per staff session user, sustained",
        example="20000/hour",
    ),
    Setting(
        "THROTTLE_ADDRESS_BURST_RATE",
        "Request limits",
        "`6000/min`",
        "every request per client address, burst",
        example="6000/min",
    ),
    Setting(
        "THROTTLE_ADDRESS_RATE",
        "Request limits",
        "`120000/hour`",
        "every request per client address, sustained",
        example="120000/hour",
    ),
    Setting(
        "THROTTLE_AUTH_FAILURES",
        "Request limits",
        "`30/10min`",
        "wrong or unknown API keys and malformed `Authorization` headers per client address; past it the "
        "address is refused before any key is read, until the window closes",
        example="30/10min",
    ),
    Setting(
        "THROTTLE_TEST_PINGS",
        "Request limits",
        "`5/min`",
        "test pings (`webhook-endpoints/{id}/test/`) per endpoint",
        example="5/min",
    ),
    Setting(
        "NUM_PROXIES",
        "Request limits",
        "0",
        "proxies in front of Tripline that append to `X-Forwarded-For`; the address they saw the request come "
        "from counts as the client's (0: the client is `REMOTE_ADDR`)",
        example="1",
    ),
    Setting(
        "AXES_FAILURE_LIMIT",
        "Request limits",
        "10",
        "wrong passwords at `/api-auth/login/` and `/admin/login/` before a login lockout (django-axes)",
        example="10",
    ),
    Setting(
        "AXES_COOLOFF_MINUTES",
        "Request limits",
        "15",
        "minutes a login lockout lasts; each refused try starts it again",
        example="15",
    ),
    Setting(
        "AXES_LOCKOUT_PARAMETERS",
        "Request limits",
        "`ip_address,username`",
        "what a login lockout counts by (`ip_address`, `username`, or `username+ip_address` for the pair)",
        example="ip_address,username",
    ),
    # --- API keys
    Setting("API_KEY_DEFAULT_TTL_DAYS", "API keys", "365", "lifetime of a new API key, in days", example="365"),
    Setting(
        "API_KEY_LAST_USED_RESOLUTION_S",
        "API keys",
        "60",
        "seconds between two writes of a key's last-used time, so a busy key does not write on every call",
    ),
    Setting(
        "API_KEY_CACHE_SECONDS",
        "API keys",
        "5",
        "seconds a web process keeps an API key with its holder and role in memory (`0`: not at all); the bound "
        "within which a key revoked, a role changed or a holder deactivated by another process is refused "
        "(see [Rules that hold everywhere](../api.md#rules-that-hold-everywhere))",
        example="5",
    ),
    # --- Bulk ingestion
    Setting("INGEST_MAX_ROWS", "Bulk ingestion", "200000", "rows per bulk request, else `413`", example="200000"),
    Setting(
        "INGEST_MAX_BYTES",
        "Bulk ingestion",
        "134217728 (128 MiB)",
        "bytes per bulk request, else `413`",
        example="134217728",
    ),
    Setting(
        "IDEMPOTENCY_KEY_TTL_HOURS",
        "Bulk ingestion",
        "48",
        "hours an `Idempotency-Key` is kept (at least 24)",
        example="48",
    ),
    Setting(
        "IDEMPOTENCY_STALE_SECONDS",
        "Bulk ingestion",
        "600",
        "seconds after which a claimed key whose request has not finished is taken to have died",
    ),
    Setting(
        "DB_RETRY_ATTEMPTS",
        "Bulk ingestion",
        "5",
        "attempts in all of a transaction PostgreSQL aborts for a deadlock or a serialization failure",
        example="5",
    ),
    Setting(
        "DB_RETRY_BACKOFF_SECONDS",
        "Bulk ingestion",
        "0.05",
        "base of the jittered backoff between those attempts (doubling, at most 1 s)",
        example="0.05",
    ),
    Setting(
        "ANOMALY_SPIKE_K",
        "Bulk ingestion",
        "5",
        "data cleaning: a sale line above median + k x MAD of the position's daily sales is a spike",
        example="5",
    ),
    Setting(
        "ANOMALY_BASELINE_DAYS",
        "Bulk ingestion",
        "28",
        "days of clean daily sales before the batch that the spike test reads",
        example="28",
    ),
    Setting(
        "ANOMALY_MIN_BASELINE_DAYS",
        "Bulk ingestion",
        "7",
        "days with sales the spike test needs in that window",
        example="7",
    ),
    # --- Warning engine
    Setting("EVALUATION_CHUNK_POSITIONS", "Warning engine", "5000", "positions per chunk, one transaction each"),
    Setting("EVALUATION_SWEEP_SECONDS", "Warning engine", "3600", "period of the full evaluation on the beat"),
    Setting(
        "EVALUATION_DEBOUNCE_SECONDS",
        "Warning engine",
        "0.2",
        "how long a burst of pushes is gathered into one incremental pass",
    ),
    Setting(
        "EVALUATION_STALE_SECONDS",
        "Warning engine",
        "120",
        "seconds of silence after which a run counts as dead and the watchdog hands it out again",
    ),
    # --- Forecasting
    Setting(
        "FORECAST_FIT_PROCESSES",
        "Forecasting",
        "the number of cores",
        "processes a refresh of many positions fits them in (1: in the calling process); reads and"
        " writes stay in the caller",
    ),
    # --- Quality
    Setting(
        "QUALITY_BACKTEST_MAX_DAYS",
        "Quality",
        "400",
        "longest period a warning backtest may replay, in days (a longer one is refused with `400`)",
        example="400",
    ),
    Setting(
        "QUALITY_BACKTEST_STALE_SECONDS",
        "Quality",
        "600",
        "seconds of silence after which a running backtest counts as dead and may be taken over",
    ),
    # --- Procurement
    Setting(
        "PROCUREMENT_SWEEP_SECONDS",
        "Procurement",
        "30",
        "how often the sweep opens missed RFQs and settles overdue ones",
        example="30",
    ),
    # --- Transfers
    Setting(
        "TRANSFER_PLAN_STALE_SECONDS",
        "Transfers",
        "900",
        "seconds after which a queued or running plan is taken to have lost its worker (above the plan "
        "task's 600 s time limit)",
        example="900",
    ),
    # --- Webhooks
    Setting(
        "WEBHOOK_SWEEP_SECONDS",
        "Webhooks",
        "15",
        "period of the beat's relay and due-delivery sweep",
        example="15",
    ),
    Setting(
        "WEBHOOK_QUEUE_LEASE_SECONDS",
        "Webhooks",
        "300",
        "how long a queued delivery message may wait to be taken before the sweep presumes it lost (with "
        "Redis) and queues another; keep it above the time the `webhooks` queue takes to drain a backlog",
    ),
    Setting("WEBHOOK_TIMEOUT_SECONDS", "Webhooks", "15", "timeout of one delivery attempt", example="15"),
    Setting(
        "WEBHOOK_SECRET_GRACE_HOURS",
        "Webhooks",
        "24",
        "hours a rotated secret keeps signing beside the new one",
        example="24",
    ),
    Setting(
        "WEBHOOK_DISABLE_AFTER_HOURS",
        "Webhooks",
        "120",
        "hours an endpoint may keep failing before it is disabled",
        example="120",
    ),
    Setting(
        "WEBHOOK_SUCCESS_RETENTION_DAYS",
        "Webhooks",
        "14",
        "days successful deliveries are kept",
        example="14",
    ),
    Setting(
        "WEBHOOK_ALLOW_LOOPBACK",
        "Webhooks",
        "on with `DEBUG`",
        "allow plain `http://` and loopback URLs (development only; private ranges are never allowed)",
        example="0",
    ),
    Setting(
        "WEBHOOK_BATCH_SIZE",
        "Webhooks",
        "200",
        "due deliveries of one endpoint a delivery task claims at a time (one statement, `SKIP LOCKED`)",
        example="200",
    ),
    Setting(
        "WEBHOOK_BATCH_SECONDS",
        "Webhooks",
        "5",
        "seconds a delivery task sends to one endpoint before it hands the rest to a new message at the back "
        "of the queue, so other endpoints get their turn",
        example="5",
    ),
    Setting(
        "WEBHOOK_ENDPOINT_CONCURRENCY",
        "Webhooks",
        "4",
        "requests in flight to one endpoint at most, across all workers (one task per endpoint at a time, "
        "sending over this many keep-alive connections)",
        example="4",
    ),
    Setting(
        "WEBHOOK_KEEPALIVE_SECONDS",
        "Webhooks",
        "4",
        "seconds an idle keep-alive connection to an endpoint is kept for reuse (below the receivers' own idle "
        "timeout, often 5 s)",
        example="4",
    ),
    Setting(
        "WEBHOOK_DNS_CACHE_SECONDS",
        "Webhooks",
        "5",
        "seconds a worker reuses a host's DNS answer; the address guard judges it at every send all the same, "
        "and a pooled connection is reused only while the answer still names its address",
        example="5",
    ),
    # --- Mail
    Setting("EMAIL_HOST", "Mail", "`localhost`", "SMTP server", example="smtp.internal"),
    Setting("EMAIL_PORT", "Mail", "25", "SMTP port", example="25"),
    Setting(
        "DEFAULT_FROM_EMAIL", "Mail", "`tripline@localhost`", "sender of outgoing mail", example="tripline@example.com"
    ),
    Setting(
        "EMAIL_BACKEND",
        "Mail",
        "SMTP; files in `EMAIL_FILE_PATH` with `DEBUG`",
        "Django mail backend",
        example="django.core.mail.backends.smtp.EmailBackend",
    ),
    Setting(
        "EMAIL_FILE_PATH",
        "Mail",
        "`.tripline/mail/`",
        "folder of the file backend, one file per message",
    ),
    Setting(
        "EMAIL_TIMEOUT",
        "Mail",
        "10",
        "seconds, so a hanging mail server does not hold a worker",
        example="10",
    ),
    # --- Workers and logs
    Setting(
        "CELERY_LONGEST_TASK_SECONDS",
        "Workers and logs",
        "1800",
        "hard time limit of a task; the broker's visibility timeout is twice this",
        example="1800",
    ),
    Setting("LOG_LEVEL", "Workers and logs", "`INFO`", "level of the `tripline` loggers", example="INFO"),
    Setting(
        "GUNICORN_THREADS",
        "Workers and logs",
        "4",
        "requests each gunicorn worker (`gthread`) serves at once; each thread holds its own database connection",
        read_in="gunicorn.conf.py",
    ),
    Setting(
        "GUNICORN_KEEPALIVE",
        "Workers and logs",
        "5",
        "seconds gunicorn keeps a client's connection open between two requests (a partner paging a list reuses it)",
        read_in="gunicorn.conf.py",
    ),
    # --- Metrics and logs
    Setting(
        "LOG_FORMAT",
        "Metrics and logs",
        "`json`; `console` with `DEBUG`",
        "`json`: one JSON object a line (request and task lines with their fields); `console`: readable, "
        "for development",
        example="json",
    ),
    Setting(
        "METRICS_TOKEN",
        "Metrics and logs",
        "none",
        "a scrape of `/metrics` must send `Authorization: Bearer <this>`; without it, `/metrics` answers only "
        "the allowed networks, and never a request relayed by a proxy (`X-Forwarded-For`)",
        example="change-me-to-a-long-random-scrape-token",
    ),
    Setting(
        "METRICS_ALLOWED_NETWORKS",
        "Metrics and logs",
        "`127.0.0.0/8,::1/128`",
        "networks (CIDR, comma-separated) whose addresses may scrape `/metrics`; the address is the client's "
        "as `NUM_PROXIES` finds it; empty: any address that sends the token",
        example="127.0.0.0/8,10.0.0.0/8",
    ),
    Setting(
        "METRICS_TENANT_LABELS",
        "Metrics and logs",
        "none",
        "tenant slugs (comma-separated, at most 50) whose requests, pushes and open alerts carry a `tenant` "
        "label; every other tenant's are labelled `other`; none: no tenant label",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "Metrics and logs",
        "none (one process's values)",
        "an empty folder, the same for gunicorn and the Celery workers of a host, where each process "
        "writes its values for `/metrics` to sum; required with several gunicorn or Celery processes; "
        "empty it before they start",
        example="/run/tripline-metrics",
    ),
)


def _plain(markdown: str) -> str:
    """``markdown`` as a comment in a dotenv file shows it: no code spans, and a link as its label and
    the page it points at (links are written relative to ``docs/reference/``)."""
    text = markdown.replace("`", "")
    return re.sub(r"\[([^\]]+)\]\(\.\./([^)#]+)(?:#[^)]*)?\)", lambda link: f"{link[1]} in docs/{link[2]}", text)


def _in_order() -> list[tuple[str, list[Setting]]]:
    return [(section, [s for s in SETTINGS if s.section == section]) for section in SECTIONS]


def settings_reference_markdown() -> str:
    """``docs/reference/settings.md``: every variable, by section."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated from core/settings/documented.py by `make docs`; edit that file, not this one. -->",
        "",
        "Tripline reads its settings from the environment. `.env.example` lists the ones a deployment",
        "usually sets; this page lists every one, with its default.",
    ]
    for section, entries in _in_order():
        lines += ["", f"## {section}", "", SECTIONS[section][0].upper() + SECTIONS[section][1:] + ".", ""]
        lines += ["| variable | meaning | default |", "| --- | --- | --- |"]
        lines += [f"| `{s.name}` | {s.meaning} | {s.default} |" for s in entries]
    return "\n".join(lines) + "\n"


def env_example() -> str:
    """``.env.example``: the variables a deployment usually sets, with example values."""
    lines = [
        "# Copy to .env (or export) to point Tripline at real services. With DATABASE_URL and REDIS_URL",
        "# unset, Tripline uses an embedded PostgreSQL and Redis under .tripline/ in the checkout, which",
        "# `make demo` and `make test` start around themselves (`make services-start` for other commands).",
        "# Generated from core/settings/documented.py by `make docs`; docs/reference/settings.md lists every",
        "# variable with its default.",
    ]
    for section, entries in _in_order():
        shown = [s for s in entries if s.example is not None]
        if not shown:
            continue
        lines += [
            "",
            *textwrap.wrap(f"{section}: {_plain(SECTIONS[section])}.", 98, initial_indent="# ", subsequent_indent="# "),
        ]
        for s in shown:
            comment = _plain(s.meaning)
            lines += textwrap.wrap(
                comment[0].upper() + comment[1:] + ".", 98, initial_indent="# ", subsequent_indent="# "
            )
            lines.append(f"{s.name}={s.example}")
    return "\n".join(lines) + "\n"
