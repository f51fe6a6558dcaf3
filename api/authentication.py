"""API keys as DRF authentication: ``Authorization: Bearer tl_<prefix>_<secret>``."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api import throttling
from tenants import selectors, services
from tenants.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[object, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None  # not ours: a session may still authenticate the request
        # Counted, and refused for an address with too many failures, before the key is looked up.
        address = throttling.key_request_count(request, credential=b" ".join(header[1:]))
        if len(header) != 2:
            throttling.auth_failure_record(address=address)
            raise exceptions.AuthenticationFailed("Malformed Authorization header: send 'Bearer <api key>'.")
        try:
            key = selectors.api_key_authenticate(raw_key=header[1].decode("latin-1"))
        except selectors.InvalidApiKey as exc:
            throttling.auth_failure_record(address=address)
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        if selectors.api_key_needs_touch(
            key=key, resolution_seconds=settings.API_KEY_LAST_USED_RESOLUTION.total_seconds()
        ):
            services.api_key_touch(key=key)
        # A partner key acts for an organization, not a person: there is no user behind it.
        return (key.user if key.user is not None else AnonymousUser()), key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="tripline"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "tl_<prefix>_<secret>",
            "description": "An API key issued to a partner or a staff user; shown once when created.",
        }
