"""``/metrics``: every series in Prometheus' text format, for scrapers the settings allow.

Who may scrape: an address of ``METRICS_ALLOWED_NETWORKS`` (loopback by default), and when
``METRICS_TOKEN`` is set, only with ``Authorization: Bearer <token>``. Without a token a request a
proxy relayed (``X-Forwarded-For`` or ``Forwarded``) is refused too: a proxy on the same host would
otherwise bring the internet in from loopback. An address outside the networks gets the 404 of a path
that does not exist; a missing or wrong token a 403; both in the API's one error format.

Under gunicorn or prefork Celery (``PROMETHEUS_MULTIPROC_DIR`` set) the series are the sum of what
every process of the host wrote to that folder; otherwise this process's own.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from api.errors import error_body, not_found
from api.throttling import client_address
from core.observability.scrape import ScrapeTimeCollector

_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED")


def _address_allowed(request: HttpRequest) -> bool:
    if not settings.METRICS_ALLOWED_NETWORKS:
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def _token_presented(request: HttpRequest) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), settings.METRICS_TOKEN.encode())


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if not _address_allowed(request):
        return not_found(request)
    if settings.METRICS_TOKEN:
        if not _token_presented(request):
            message = "Scraping /metrics needs the header `Authorization: Bearer <METRICS_TOKEN>`."
            return JsonResponse(error_body("permission_denied", message), status=403)
    elif any(header in request.META for header in _PROXY_HEADERS):
        message = "A scrape relayed by a proxy needs METRICS_TOKEN set and sent as `Authorization: Bearer <token>`."
        return JsonResponse(error_body("permission_denied", message), status=403)
    return None


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape: every process's values (or this one's), and the scrape-time gauges."""
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(ScrapeTimeCollector())
    return registry


@csrf_exempt  # no session is involved; a POST gets the 405 below, not a CSRF page
def metrics(request: HttpRequest) -> HttpResponse:
    refused = _refusal(request)
    if refused is not None:
        return refused
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(error_body("method_not_allowed", f'Method "{request.method}" not allowed.'), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
