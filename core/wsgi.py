"""WSGI entry point (gunicorn core.wsgi)."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings.main")
application = get_wsgi_application()

# Loaded now rather than by the first request: the URLconf and through it every view's module. With
# Django and the apps that is some 270,000 objects living as long as the worker; left to the cyclic
# collector, each full collection walks them all (100+ ms on a busy 2-core machine), and a page that
# builds a few thousand objects (a transfer plan's flows) sets one off every ten requests or so.
# Frozen, a full collection walks only what requests create (a few thousand objects, about 1 ms).
import_module(settings.ROOT_URLCONF)
gc.collect()
gc.freeze()
