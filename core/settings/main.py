"""Settings, read from the environment (12-factor).

With DEBUG off these pass ``manage.py check --deploy`` with no warnings. With no DATABASE_URL or
REDIS_URL, they point at the embedded PostgreSQL and Redis under ``.tripline/``, which
``python -m core.embedded_services start`` (or ``exec -- CMD``) runs; importing them starts nothing.
"""

import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from core import embedded_services

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_rate(name: str, default: str) -> str | None:
    """A request limit such as ``1200/min`` or ``30/10min``; ``off`` lifts it."""
    value = os.environ.get(name, "").strip() or default
    if value.lower() == "off":
        return None
    # Refused here, at start-up, rather than by every request that reads it.
    if not re.fullmatch(r"\d+/\d*[smhd][a-z]*", value.replace(" ", "").lower()):
        raise ImproperlyConfigured(f"{name}={value!r}: write a rate like 1200/min, 60000/hour or 30/10min, or off.")
    return value


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to 50+ random characters, or set DEBUG=1 for local use."
        )
    SECRET_KEY = "django-insecure-local-development-only-key-not-for-production-use-0123"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "tenants",
    "core.inventory",
    "core.supply",
    "core.procurement",
    "core.access",
    "core.transfers",
    "core.forecasting",
    "core.alerts",
    "core.quality",
    "core.playbooks",
    "core.webhooks",
    "core.demo",
    "core.reference",
    "core.observability",
    "workers",
    "console",
]

MIDDLEWARE = [
    # First: its request id, duration, log line and metrics cover every other middleware's work.
    "core.observability.middleware.RequestObservedMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a login refused for a lockout into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "core.urls"
WSGI_APPLICATION = "core.wsgi.application"
ASGI_APPLICATION = "core.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Services ---------------------------------------------------------------------------------

# Unset, a URL names the embedded service (core/embedded_services.py). Reading settings starts
# nothing: `python -m core.embedded_services start` or `exec -- CMD` does. EMBEDDED_SERVICES are the
# ones these URLs name, which manage.py and the test run find running or stop at once, saying what to do.
DATABASE_URL = os.environ.get("DATABASE_URL") or embedded_services.postgres_url()
REDIS_URL = os.environ.get("REDIS_URL") or embedded_services.redis_url()
EMBEDDED_SERVICES = embedded_services.named_by(DATABASE_URL, REDIS_URL)

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("Tripline runs on PostgreSQL only: DATABASE_URL must be postgres://")

# --- Scaling (docs/scaling.md) ---
# A pooler in transaction mode (PgBouncer) hands each transaction any server connection: nothing may
# outlive a transaction on it. The code keeps to that everywhere (advisory locks are xact-scoped,
# SET is LOCAL, temporary tables are ON COMMIT DROP); what Django itself would keep across
# transactions, a server-side cursor of .iterator() outside a transaction, is switched off here.
DATABASE_POOLER = os.environ.get("DATABASE_POOLER", "").strip().lower()
if DATABASE_POOLER not in {"", "transaction"}:
    raise ImproperlyConfigured(f"DATABASE_POOLER={DATABASE_POOLER!r}: write transaction, or leave it unset.")
if DATABASE_POOLER == "transaction":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tripline",
    }
}

# A streaming replica for reads that tolerate lag (core/db_routing.py): GET and HEAD requests outside
# transactions, while it is at most REPLICA_MAX_LAG_SECONDS behind; else, and for all else, the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "") or "5")
REPLICA_LAG_CHECK_SECONDS = 1.0  # how often a process asks the replica how far behind it is
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=env_int("CONN_MAX_AGE", 60), conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.db_routing.ReplicaRouter"]
    MIDDLEWARE = [MIDDLEWARE[0], "core.db_routing.ReplicaReadsMiddleware", *MIDDLEWARE[1:]]

# Redis through Sentinel: with sentinels named, REDIS_URL gives the database and the password, and
# the sentinels name the primary of REDIS_SENTINEL_MASTER, for the cache, Celery and the counters.
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "") or "tripline"
try:
    REDIS_SENTINELS = [
        (host, int(port)) for host, port in (item.rsplit(":", 1) for item in env_list("REDIS_SENTINELS", []))
    ]
except ValueError as exc:
    raise ImproperlyConfigured("REDIS_SENTINELS: write host:port pairs, comma-separated.") from exc
if REDIS_SENTINELS:
    CACHES["default"]["BACKEND"] = "core.redis_clients.SentinelRedisCache"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out address or username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# guardian: no anonymous user row; partners act through their group, never as anonymous.
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# In development files are served as they change, and no collectstatic is needed.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "/api-auth/login/"
LOGIN_REDIRECT_URL = "/api/v1/tenants/"

# --- Security (check --deploy clean with DEBUG off) --------------------------------------------

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes come over plain HTTP from the orchestrator, inside the cluster.
# So are Prometheus' scrapes of /metrics (token and networks: METRICS_TOKEN, METRICS_ALLOWED_NETWORKS).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Request limits (docs/api.md, Limits) -----------------------------------------------------

# Counted in the cache's Redis per fixed window (api/throttling.py). The defaults sit well above
# what an integration does (an ERP pushing bulk batches, a partner paging a list of 1,000 rows a
# page) and stop a runaway loop within a minute.
THROTTLE_RATES = {
    "key": env_rate("THROTTLE_KEY_RATE", "60000/hour"),
    "key_burst": env_rate("THROTTLE_KEY_BURST_RATE", "3000/min"),
    "address": env_rate("THROTTLE_ADDRESS_RATE", "120000/hour"),
    "address_burst": env_rate("THROTTLE_ADDRESS_BURST_RATE", "6000/min"),
    "user": env_rate("THROTTLE_USER_RATE", "20000/hour"),
    "user_burst": env_rate("THROTTLE_USER_BURST_RATE", "1200/min"),
    # A wrong or unknown API key or a malformed Authorization header, per client address: past
    # this the address is refused before any key is looked up, until the window closes.
    "auth_failures": env_rate("THROTTLE_AUTH_FAILURES", "30/10min"),
    "test_ping": env_rate("THROTTLE_TEST_PINGS", "5/min"),  # per webhook endpoint
}
# How many proxies in front of Tripline append to X-Forwarded-For; 0 trusts only REMOTE_ADDR.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

# Session and admin logins (django-axes): after AXES_FAILURE_LIMIT wrong passwords from one
# address, or for one username, both are refused for the cool-off, counted again from each
# refused try. Attempts are kept in the database (the admin lists them; deleting one unlocks).
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [
    item.split("+") if "+" in item else item for item in env_list("AXES_LOCKOUT_PARAMETERS", ["ip_address", "username"])
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_CLIENT_IP_CALLABLE = "api.throttling.client_address"
AXES_USERNAME_CALLABLE = "api.throttling.login_username"
AXES_LOCKOUT_CALLABLE = "console.errors.login_lockout"  # a page on the console, JSON elsewhere
# Successful logins are not logged: the table would grow without bound and hold addresses.
AXES_DISABLE_ACCESS_LOG = True

# --- REST framework and OpenAPI ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.IsAuthenticatedPrincipal"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.JSONRenderer",  # orjson, the same JSON as DRF's
        "api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.CreatedCursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.TriplineAutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.RequestRateThrottle"],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": NUM_PROXIES,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Tripline API",
    "DESCRIPTION": (
        "Early-warning inventory platform for a brand and its supply-chain partners. "
        "Every tenant-scoped path lives under `/api/v1/tenants/{tenant_slug}/`. Authenticate "
        "with `Authorization: Bearer <api key>` or a staff session. Every error has the shape "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    # 3.1 for the top-level `webhooks`: the events partner endpoints receive, with their payloads.
    "OAS_VERSION": "3.1.0",
    # Generated from the event registry (core/webhooks/events.py and each app's events.py).
    "WEBHOOKS": "api.webhooks.catalog.WEBHOOKS",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" or a "kind"; each set of choices gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "PartnerKindEnum": "tenants.models.PartnerKind",
        "RoleEnum": "tenants.models.Role",
        "ApiKeyStatusEnum": ["active", "expired", "revoked"],
        "WarehouseKindEnum": "core.inventory.models.WarehouseKind",
        "IndustryProfileEnum": "core.inventory.models.IndustryProfile",
        "VelocityClassEnum": "core.inventory.models.VelocityClass",
        "SkuStatusEnum": "core.inventory.models.SkuStatus",
        "MovementKindEnum": "core.inventory.models.MovementKind",
        "AnomalyReasonEnum": "core.inventory.models.AnomalyReason",
        "AnomalyStatusEnum": "core.inventory.models.AnomalyStatus",
        "GradeEnum": "core.alerts.models.Grade",
        "RuleCodeEnum": "core.alerts.models.RuleCode",
        "AlertStatusEnum": "core.alerts.models.AlertStatus",
        "DismissReasonEnum": "core.alerts.models.DismissReason",
        "AlertEventKindEnum": "core.alerts.models.AlertEventKind",
        "EvaluationTriggerEnum": "core.alerts.models.EvaluationTrigger",
        "EvaluationStatusEnum": "core.alerts.models.EvaluationStatus",
        "DeliveryStateEnum": "core.webhooks.models.DeliveryState",
        "RfqStatusEnum": "core.procurement.models.RfqStatus",
        "SupplierRfqStatusEnum": "core.procurement.models.SupplierRfqStatus",
        "InvitationStatusEnum": "core.procurement.models.InvitationStatus",
        "QuoteStatusEnum": "core.procurement.models.QuoteStatus",
        "PurchaseOrderStatusEnum": "core.procurement.models.PurchaseOrderStatus",
        "RecommendationStatusEnum": "core.playbooks.models.RecommendationStatus",
        "RecommendationKindEnum": "core.playbooks.models.RecommendationKind",
        "AwardRuleEnum": "core.procurement.models.AwardRule",
        "TransferStatusEnum": "core.transfers.models.TransferStatus",
        "TransferLineKindEnum": "core.transfers.models.LineKind",
        "TransferApprovalEnum": "core.transfers.models.Approval",
        "MoveStatusEnum": "core.transfers.models.MoveStatus",
        "StockBandEnum": ["available", "low", "out"],
        "GrantQuantitiesEnum": ["exact", "bands"],
    },
}

# --- Tripline ---------------------------------------------------------------------------------

API_KEY_DEFAULT_TTL_DAYS = env_int("API_KEY_DEFAULT_TTL_DAYS", 365)
# last_used_at is written at most this often per key, so a busy key does not write on every call.
API_KEY_LAST_USED_RESOLUTION = timedelta(seconds=env_int("API_KEY_LAST_USED_RESOLUTION_S", 60))
# A process keeps an API key with its tenant, holder and role this many seconds (0: not at all):
# the bound within which a change made by another process (a revoked key, a role, a deactivated
# holder) takes effect; changes made through the services clear the process's own copy at once.
API_KEY_CACHE_SECONDS = max(0, env_int("API_KEY_CACHE_SECONDS", 5))
READYZ_TIMEOUT_SECONDS = 2.0

# Bulk ingestion: rows and bytes per request (bulk endpoints read their body as a stream, so
# Django's DATA_UPLOAD_MAX_MEMORY_SIZE keeps guarding every other endpoint), key retention.
INGEST_MAX_ROWS = env_int("INGEST_MAX_ROWS", 200_000)
INGEST_MAX_BYTES = env_int("INGEST_MAX_BYTES", 128 * 1024 * 1024)
IDEMPOTENCY_KEY_TTL_HOURS = max(24, env_int("IDEMPOTENCY_KEY_TTL_HOURS", 48))
# A claimed key whose request has not finished after this long is taken to have died.
IDEMPOTENCY_STALE_SECONDS = env_int("IDEMPOTENCY_STALE_SECONDS", 600)

# A transaction PostgreSQL aborts for a deadlock or a serialization failure runs again, up to this
# many attempts in all, after a jittered pause of up to DB_RETRY_BACKOFF_SECONDS x 2^(attempt - 1).
DB_RETRY_ATTEMPTS = env_int("DB_RETRY_ATTEMPTS", 5)
DB_RETRY_BACKOFF_SECONDS = float(os.environ.get("DB_RETRY_BACKOFF_SECONDS", "0.05"))

# Data cleaning: a sale line above median + k x MAD of the position's daily sales is a spike.
ANOMALY_SPIKE_K = float(os.environ.get("ANOMALY_SPIKE_K", "5"))
ANOMALY_BASELINE_DAYS = env_int("ANOMALY_BASELINE_DAYS", 28)
ANOMALY_MIN_BASELINE_DAYS = env_int("ANOMALY_MIN_BASELINE_DAYS", 7)

# Warning engine: positions per chunk (one transaction each), the full sweep's period, how long
# a burst of pushes is gathered into one incremental pass, and when a silent run counts as dead.
EVALUATION_CHUNK_POSITIONS = env_int("EVALUATION_CHUNK_POSITIONS", 5_000)
EVALUATION_SWEEP_SECONDS = env_int("EVALUATION_SWEEP_SECONDS", 3600)
EVALUATION_DEBOUNCE_SECONDS = float(os.environ.get("EVALUATION_DEBOUNCE_SECONDS", "0.2"))
EVALUATION_STALE_SECONDS = env_int("EVALUATION_STALE_SECONDS", 120)

# Forecasts: processes a large refresh fits in (the reads and writes stay in the caller's process).
# One per core: the fits are pure CPU, and PostgreSQL waits while they run.
FORECAST_FIT_PROCESSES = env_int("FORECAST_FIT_PROCESSES", os.cpu_count() or 1)

# Warning backtests: the longest period one replays, and when a silent running one counts as dead.
QUALITY_BACKTEST_MAX_DAYS = env_int("QUALITY_BACKTEST_MAX_DAYS", 400)
QUALITY_BACKTEST_STALE_SECONDS = env_int("QUALITY_BACKTEST_STALE_SECONDS", 600)

# Transfer plans: one queued or running per tenant. One older than this (queued, or running since)
# is taken to have lost its worker and no longer blocks a new one; above the plan task's 600 s limit.
TRANSFER_PLAN_STALE_SECONDS = env_int("TRANSFER_PLAN_STALE_SECONDS", 900)

# Procurement: the sweep that opens RFQs a lost message missed and settles RFQs past their deadline.
PROCUREMENT_SWEEP_SECONDS = env_int("PROCUREMENT_SWEEP_SECONDS", 30)
# Outbox event types handed to in-house consumers (task name -> event types) besides webhooks.
OUTBOX_CONSUMERS = {
    "tripline.procurement.respond": ["alert.opened", "alert.escalated", "alert.deescalated", "alert.resolved"],
}

# Webhooks: per-attempt timeout, how long a rotated secret keeps signing, how long an endpoint may
# keep failing before it is disabled, how long successful deliveries are kept, and whether URLs on
# loopback may be used (development and tests only; private ranges are never allowed in production).
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 15)  # the beat's relay and due-delivery sweep
# How long a queued delivery message may wait to be taken before the sweep presumes it lost (with
# Redis) and queues another: above the time the webhooks queue takes to drain a backlog.
WEBHOOK_QUEUE_LEASE_SECONDS = env_int("WEBHOOK_QUEUE_LEASE_SECONDS", 300)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "15"))
WEBHOOK_SECRET_GRACE_HOURS = env_int("WEBHOOK_SECRET_GRACE_HOURS", 24)
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 120)
WEBHOOK_SUCCESS_RETENTION_DAYS = env_int("WEBHOOK_SUCCESS_RETENTION_DAYS", 14)
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", DEBUG)
# Delivery in batches: a task sends up to WEBHOOK_BATCH_SIZE due deliveries of one endpoint at a time,
# for at most WEBHOOK_BATCH_SECONDS before it yields the worker to other endpoints, over at most
# WEBHOOK_ENDPOINT_CONCURRENCY keep-alive connections (the fleet-wide bound per endpoint). An idle
# connection is reused for WEBHOOK_KEEPALIVE_SECONDS, and a host's DNS answer for
# WEBHOOK_DNS_CACHE_SECONDS; the address guard judges the answer at every send either way.
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 200)
WEBHOOK_BATCH_SECONDS = env_int("WEBHOOK_BATCH_SECONDS", 5)
WEBHOOK_ENDPOINT_CONCURRENCY = env_int("WEBHOOK_ENDPOINT_CONCURRENCY", 4)
WEBHOOK_KEEPALIVE_SECONDS = env_int("WEBHOOK_KEEPALIVE_SECONDS", 4)
WEBHOOK_DNS_CACHE_SECONDS = env_int("WEBHOOK_DNS_CACHE_SECONDS", 5)

# Mail (RFQ invitations to suppliers, a disabled webhook endpoint to tenant admins): SMTP in
# production; locally one file per message in EMAIL_FILE_PATH, as invitations would flood a console.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / ".tripline" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)  # seconds: a hanging mail server must not hold a worker
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tripline@localhost")

# --- Celery -----------------------------------------------------------------------------------


def celery_redis_url(url: str) -> str:
    """``url`` as Kombu and Celery read it. They name a unix socket ``redis+socket://`` (redis-py
    and Django ``unix://``) and take its database from ``virtual_host``: a ``db`` in the query
    would be ignored, and every socket URL would share database 0."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = dict(parse_qsl(parts.query))
    if "db" in query:
        query["virtual_host"] = query.pop("db")
    return f"redis+socket://{parts.path}" + (f"?{urlencode(query)}" if query else "")


CELERY_BROKER_URL = celery_redis_url(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# Kombu's sentinel transport and Celery's sentinel result backend: one sentinel:// per sentinel.
CELERY_SENTINEL_OPTIONS: dict[str, str] = {}
if REDIS_SENTINELS:
    _redis = urlsplit(REDIS_URL)
    _auth = f":{_redis.password}@" if _redis.password else ""
    _db = _redis.path.lstrip("/") or "0"
    CELERY_BROKER_URL = ";".join(f"sentinel://{_auth}{host}:{port}/{_db}" for host, port in REDIS_SENTINELS)
    CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    CELERY_SENTINEL_OPTIONS = {"master_name": REDIS_SENTINEL_MASTER}
CELERY_LONGEST_TASK_SECONDS = env_int("CELERY_LONGEST_TASK_SECONDS", 30 * 60)

# --- Metrics and logs (docs/operations.md, Metrics and logs) -----------------------------------

# /metrics answers an address of these networks (as NUM_PROXIES finds the client's), and, when a token
# is set, only with `Authorization: Bearer <METRICS_TOKEN>`. Default: loopback only, no token.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(network, strict=False)
        for network in env_list("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}; write networks like 10.0.0.0/8,::1/128.") from exc
# Tenants whose series carry their slug; a list, so the series stay bounded by configuration.
METRICS_TENANT_LABELS_MAX = 50
METRICS_TENANT_LABELS = frozenset(env_list("METRICS_TENANT_LABELS", []))
if len(METRICS_TENANT_LABELS) > METRICS_TENANT_LABELS_MAX:
    raise ImproperlyConfigured(
        f"METRICS_TENANT_LABELS names {len(METRICS_TENANT_LABELS)} tenants; at most {METRICS_TENANT_LABELS_MAX}."
    )
# Where every process of a host (gunicorn's workers, Celery's) writes its values for the scrape to sum.
# prometheus_client reads the variable itself when it is first imported; this says which mode we are in.
PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if PROMETHEUS_MULTIPROC_DIR and not os.path.isdir(PROMETHEUS_MULTIPROC_DIR):
    # Refused here: prometheus_client would fail the first request or task that counts anything.
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r} is not a folder: create it (empty, writable by "
        "gunicorn and the Celery workers), or unset it for a single process."
    )

# JSON lines in production, readable lines in development. Every record goes through one formatter:
# the request and task lines (core/observability) and the plain `tripline.*` messages alike.
LOG_FORMAT = (os.environ.get("LOG_FORMAT", "") or ("console" if DEBUG else "json")).strip().lower()
if LOG_FORMAT not in {"json", "console"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: write json or console.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "core.observability.logs.formatter", "output": LOG_FORMAT}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "tripline": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO"), "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
