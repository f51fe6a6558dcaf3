"""OpenAPI generation: every operation documents the error format for the codes it can answer."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from api.errors import ErrorResponseSerializer

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `fields` names each problem.",
    "401": "No API key or session, or the key is malformed, unknown, revoked or expired.",
    "403": "Your role or partner kind may not do this.",
    "404": "No such object in this tenant (or not visible to you), or no such tenant for you.",
    "413": "The body is over the request size limit.",
    "415": "Unsupported content type; send `application/json`.",
    "429": "Over a request limit (README, Limits); `Retry-After` says in how many seconds to try again.",
    "500": "Unexpected error; it was logged.",
    "503": "Other writes to the same data kept aborting this one (README, Bulk ingestion: Concurrency); nothing "
    "was written. Send it again after `Retry-After` seconds.",
}


class TriplineAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "429", "500"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["413", "415"]
        if self.method != "GET":
            codes.append("503")  # a write PostgreSQL kept aborting for a deadlock or serialization failure
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorResponseSerializer, code, direction=direction)
                response["description"] = _ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def get_override_parameters(self) -> list:
        parameters = list(super().get_override_parameters())
        parameters.append(
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[429, 503],
                description="Seconds until the limit that refused the request lets it through, or until a write "
                "held up by others is worth sending again.",
            )
        )
        if "{tenant_slug}" in self.path:
            parameters.append(
                OpenApiParameter(
                    "tenant_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The tenant's slug."
                )
            )
        return parameters
