"""Test settings: faster, never different in what they test."""

import os

os.environ.setdefault("DEBUG", "1")

from core.settings.main import *

# Hashing a password for every fixture user is the slowest thing in the suite otherwise.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
# Tests run their own local receivers on 127.0.0.1.
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False
# Webhook tests deliver to receivers on 127.0.0.1; production refuses loopback (tests check that too).
WEBHOOK_ALLOW_LOOPBACK = True
LOGGING["loggers"]["tripline"]["level"] = "WARNING"
# The suite speaks from 127.0.0.1 with thousands of requests (Schemathesis too), and Redis keeps
# the counters from one run to the next: production limits would refuse it. Limit tests set theirs.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(THROTTLE_RATES, "1000000/hour")
