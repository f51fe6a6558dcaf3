"""The console's refusals as pages a person reads (the API answers the same cases in JSON)."""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from api import errors as api_errors


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "console/error.html", {"title": title, "message": message}, status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        404,
        "Not found",
        "There is no such page, or it belongs to a tenant you are not a member of. "
        "Choose one of your tenants from the console's start.",
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    detail = str(exception) if exception is not None and str(exception) else "Your role may not do this."
    return _page(request, 403, "Not allowed", f"{detail} Analysts read; planners and admins act.")


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    """405 as a page (Django's own answer is empty), naming the methods the page takes."""
    response = _page(
        request,
        405,
        "Not allowed here",
        f"This page does not take {request.method}; it takes {', '.join(allowed)}.",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """What Django refuses before a page reads the request (a body over its size, too many fields, a
    malformed multipart body): a page, where the API's handler answers JSON."""
    if isinstance(exception, RequestDataTooBig):
        status, detail = 413, f"The form is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, the most a page reads."
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent | MultiPartParserError):
        status, detail = 400, str(exception)
    else:
        status, detail = 400, "The request could not be read."
    return _page(request, status, "Request refused", f"{detail} Nothing was changed; go back and try again.")


SERVER_ERROR_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>Something went wrong · Tripline</title></head>"
    '<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem">'
    '<h1>Something went wrong</h1><p role="alert">The console could not answer this request. Try again in a '
    "minute; if it fails again, tell your tenant's admin when it happened.</p>"
    '<p><a href="/console/">Back to the console</a></p></body></html>'
)


def server_error(request: HttpRequest) -> HttpResponse:
    """500 as a page. Plain markup with no template and no context: what failed may be the database
    the templates' context would read."""
    return HttpResponse(SERVER_ERROR_PAGE, status=500)


def login_lockout(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' answer to a locked-out login: the API's (429, its message, Retry-After), as a page
    on the console's sign-in; the admin's sign-in keeps the API's JSON."""
    answer = api_errors.login_lockout(request, original_response, credentials)
    if not request.path.startswith("/console/"):
        return answer
    page = _page(request, answer.status_code, "Sign-in paused", json.loads(answer.content)["error"]["message"])
    if answer.has_header("Retry-After"):
        page["Retry-After"] = answer["Retry-After"]
    return page
