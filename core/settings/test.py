"""Test settings: faster, never different in what they test."""

import atexit
import os
import shutil
import tempfile

from core import embedded_services

os.environ.setdefault("DEBUG", "1")

# `make test` beside a running `make demo` in one checkout: the wrapper hands both the embedded
# Redis' database 0, and the demo's worker would take the tests' tasks. Tests keep to a database of
# their own there. Any other REDIS_URL is the caller's choice and stays as given, so runs that name
# distinct databases (CI, parallel runs) stay apart.
TEST_EMBEDDED_REDIS_DB = 1  # the bench takes 7
if (os.environ.get("REDIS_URL") or embedded_services.redis_url()) == embedded_services.redis_url():
    os.environ["REDIS_URL"] = embedded_services.redis_url(db=TEST_EMBEDDED_REDIS_DB)

# Metrics as production keeps them under gunicorn: every process (this one, the real workers it
# starts, which inherit the variable) writes to one folder, fresh for the run, and /metrics sums them.
# Set before prometheus_client is first imported, which reads it then.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tripline-metrics-")
    atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

from core.settings.main import *

# Hashing a password for every fixture user is the slowest thing in the suite otherwise.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Tests run their own local receivers on 127.0.0.1.
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
# Webhook tests deliver to receivers on 127.0.0.1; production refuses loopback (tests check that too).
WEBHOOK_ALLOW_LOOPBACK = True
# Tests answer DNS lookups with a fake resolver whose answers change from test to test (and within
# one): the worker's cache of answers would carry one test's into the next. Tests of the cache set it.
WEBHOOK_DNS_CACHE_SECONDS = 0
LOGGING["loggers"]["tripline"]["level"] = "WARNING"
# The suite speaks from 127.0.0.1 with thousands of requests (Schemathesis too), and Redis keeps
# the counters from one run to the next: production limits would refuse it. Limit tests set theirs.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(THROTTLE_RATES, "1000000/hour")
