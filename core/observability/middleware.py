"""One log line and the HTTP series of every request, with a request id that follows it.

The id is the caller's ``X-Request-ID`` when it is a sane token (a proxy's or a client's, so one id
runs through their logs and ours), else a new one; it is echoed in the response's ``X-Request-ID``
and bound to every log line written while the request runs.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from core import telemetry

logger = structlog.get_logger("tripline.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A path no URL pattern matched: one label for all of them, never the path itself.
UNMATCHED_ROUTE = "<unmatched>"


def request_id_of(header: str | None) -> str:
    """The caller's id when it is a short token of safe characters, else a new one."""
    if header and _SANE_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (``/api/v1/tenants/<slug:tenant_slug>/stock/``), not the path."""
    match = getattr(request, "resolver_match", None)
    return "/" + match.route if match is not None else UNMATCHED_ROUTE


def principal_kind_of(request: HttpRequest, noted: str | None) -> str:
    """The role or partner kind the API noted; else ``user`` for a signed-in person (a page, the
    admin), ``anonymous`` otherwise. A user the request never looked at is not loaded for this."""
    if noted:
        return noted
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return "anonymous"
    return "user" if user is not None and user.is_authenticated else "anonymous"


class RequestObservedMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_of(request.headers.get(REQUEST_ID_HEADER))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            self._record(request, response.status_code, seconds)
        finally:
            structlog.contextvars.clear_contextvars()
        return response

    def _record(self, request: HttpRequest, status: int, seconds: float) -> None:
        route, method = route_of(request), request.method if request.method in _METHODS else "other"
        tenant, noted_kind = telemetry.caller_of(request)
        telemetry.HTTP_REQUESTS.labels(
            route=route, method=method, status=f"{status // 100}xx", tenant=telemetry.tenant_label(tenant)
        ).inc()
        telemetry.HTTP_DURATION.labels(route=route, method=method).observe(seconds)
        (logger.error if status >= 500 else logger.info)(
            "request",
            method=request.method,
            route=route,
            path=request.path,
            status=status,
            duration_ms=round(seconds * 1000, 2),
            tenant=tenant,
            principal=principal_kind_of(request, noted_kind),
        )
