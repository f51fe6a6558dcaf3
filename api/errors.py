"""The one error format of the API: ``{"error": {"code", "message", "fields"}}``.

Every 4xx and 5xx, from DRF, from domain services, or from Django itself (unknown URL, crash),
leaves in this shape.
"""

import logging
import math
from collections.abc import Mapping

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core import telemetry
from core.exceptions import Conflict, Contended, NotFound
from core.retries import contention_of

logger = logging.getLogger("tripline.api")

# DRF's own "Authentication credentials were not provided." leaves a newcomer guessing what to send.
MISSING_CREDENTIALS = (
    "Authentication credentials were not provided. Send an API key in the header "
    "`Authorization: Bearer tl_<prefix>_<secret>`, or log in at /api-auth/login/ for a browser session."
)


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `validation_error`, `not_found`.")
    message = serializers.CharField(help_text="What went wrong and what to do next, for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages; nested fields are joined with dots (`rows.3.quantity`).",
    )


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def error_body(code: str, message: str, fields: Mapping[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": dict(fields or {})}}


def _flatten(detail: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.b.0.c": ["message", ...]}``."""
    if isinstance(detail, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, Mapping | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _validation_message(fields: Mapping[str, list[str]]) -> str:
    if list(fields) == ["non_field_errors"]:
        return fields["non_field_errors"][0]
    names = ", ".join(sorted(fields)[:10])
    more = "" if len(fields) <= 10 else f" and {len(fields) - 10} more"
    return f"Invalid input in {len(fields)} field(s): {names}{more}. See `fields` for details."


def exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, NotFound | Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Conflict):
        exc = ConflictError(str(exc))
    elif isinstance(exc, Contended) or contention_of(exc):
        # Aborted by PostgreSQL for contention, after the service's own retries if it has them:
        # nothing was written, and the same request will most likely pass in a moment.
        logger.warning("%s answered 503: %s", context.get("view").__class__.__name__, exc)
        exc = ContendedError(wait=Contended.retry_after_seconds)
    elif isinstance(exc, exceptions.NotAuthenticated):
        # In place: the view set the WWW-Authenticate challenge (and the status) on this instance.
        exc.detail = exceptions.ErrorDetail(MISSING_CREDENTIALS, code=exc.default_code)
    elif isinstance(exc, SuspiciousOperation | MultiPartParserError):
        exc = _request_refused(exc)

    response = drf_exception_handler(exc, context)
    if response is None:
        # An unexpected crash: logged with its traceback, answered in the one format.
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body("server_error", "Something went wrong on our side; it was logged. Try again later."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        response.data = error_body("validation_error", _validation_message(fields), fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(detail, Mapping | list):
            fields = _flatten(detail)
            response.data = error_body(code, _validation_message(fields), fields)
        else:
            response.data = error_body(getattr(detail, "code", None) or code, str(detail))
    return response


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class ContendedError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = (
        "Other changes to the same stock kept this request from finishing; nothing was written. "
        "Send it again after Retry-After seconds."
    )
    default_code = "contended"

    def __init__(self, wait: int) -> None:
        super().__init__()
        self.wait = wait


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class BadRequest(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_request"
    default_detail = "The request could not be understood."


def _request_refused(exc: Exception) -> exceptions.APIException:
    """What Django refuses while reading a request (its size, field count, form encoding) as a 4xx.

    Django answers these with a 400 when they reach its own handler; raised inside a DRF view (when
    the body or the query string is first read) DRF does not know them, and they were a 500.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return PayloadTooLarge(f"The request body is over {limit} bytes, the most this endpoint reads.")
    if isinstance(exc, MultiPartParserError):
        return exceptions.ParseError(f"Malformed multipart body: {exc}")
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError(str(exc))  # Django's message names the limit
    return BadRequest()  # other suspicious requests: no detail of what was suspected


def _json_error(status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 404 for paths no view answers."""
    return _json_error(404, "not_found", f"No endpoint at {request.path}. The API is described at /api/docs/.")


def server_error(request: HttpRequest) -> JsonResponse:
    return _json_error(500, "server_error", "Something went wrong on our side; it was logged. Try again later.")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """Django's 400, for what it refuses outside the API's views (in a middleware, on the login form)."""
    refused = _request_refused(exception) if exception is not None else BadRequest()
    return _json_error(refused.status_code, refused.default_code, str(refused.detail))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return _json_error(403, "permission_denied", "You may not do this.")


def login_lockout(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> JsonResponse:
    """django-axes' answer to a locked-out login (the session login, the admin's).

    Every refused try starts the cool-off again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so
    the whole cool-off is what is left.
    """
    telemetry.THROTTLED.labels(scope="login").inc()
    cool_off = get_cool_off(request)
    wait = max(1, math.ceil(cool_off.total_seconds())) if cool_off is not None else None
    message = "Too many failed logins from your address or for this user; " + (
        f"try again in {wait} s." if wait else "ask an admin to unlock the login."
    )
    response = _json_error(429, "throttled", message)
    if wait:
        response["Retry-After"] = str(wait)
    return response
