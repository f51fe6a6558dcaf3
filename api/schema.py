"""OpenAPI generation: every operation documents the error format for the codes it can answer.

Also where the document says what the serializers do but drf-spectacular cannot see: input
serializers refuse unknown fields, and a blank-allowing formatted string may be empty.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer
from rest_framework import serializers

from api.errors import ErrorResponseSerializer
from api.input import DATETIME_PATTERN, InputSerializer, decimal_pattern

_ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `fields` names each problem.",
    "401": "No API key or session, or the key is malformed, unknown, revoked or expired.",
    "403": "Your role or partner kind may not do this.",
    "404": "No such object in this tenant (or not visible to you), or no such tenant for you.",
    "413": "The body is over the request size limit.",
    "415": "Unsupported content type; send `application/json`.",
    "429": "Over a request limit (docs/api.md, Limits); `Retry-After` says in how many seconds to try again.",
    "500": "Unexpected error; it was logged.",
    "503": "Other writes to the same data kept aborting this one (docs/ingestion.md, Concurrency); nothing "
    "was written. Send it again after `Retry-After` seconds.",
}
_EMPTY_STRING = {"type": "string", "maxLength": 0}


class TriplineAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        if direction == "request":
            # A webhook's entry (drf-spectacular maps it from the receiver's side): its responses are
            # what the receiver answers, not this API's errors.
            return responses
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

    def _map_serializer(self, serializer: object, direction: str, bypass_extensions: bool = False) -> dict:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, InputSerializer):
            schema["additionalProperties"] = False  # InputSerializer answers 400 to an unknown field
        return schema

    def _map_serializer_field(self, field: serializers.Field, direction: str, bypass_extensions: bool = False) -> dict:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and isinstance(field, serializers.DateTimeField) and schema is not None:
            schema["pattern"] = DATETIME_PATTERN  # the offsets the database stores, which RFC 3339 exceeds
        if direction == "request" and isinstance(field, serializers.DecimalField) and schema is not None:
            # What InputSerializer reads, exactly: text in this pattern, or a whole number in range
            # (JSON Schema applies pattern to strings only, and the bounds to numbers only).
            schema["pattern"] = decimal_pattern(field)
            schema["type"] = [*([schema["type"]] if isinstance(schema["type"], str) else schema["type"]), "integer"]
            digits = field.max_digits - field.decimal_places if field.max_digits is not None else None
            low = field.min_value if field.min_value is not None else (-(10**digits) + 1 if digits else None)
            high = field.max_value if field.max_value is not None else (10**digits - 1 if digits else None)
            for keyword, bound in (("minimum", low), ("maximum", high)):
                if bound is not None:
                    schema[keyword] = int(bound) if bound == int(bound) else float(bound)
        return schema

    def _unwrap_list_serializer(self, serializer: object, direction: str) -> dict | None:
        schema = super()._unwrap_list_serializer(serializer, direction)
        if schema and isinstance(serializer, serializers.ListSerializer):
            # A many=True body's own bounds (DRF checks them; drf-spectacular leaves them out).
            for bound, keyword in (("min_length", "minItems"), ("max_length", "maxItems")):
                if getattr(serializer, bound, None) is not None:
                    schema[keyword] = getattr(serializer, bound)
        return schema

    def _insert_field_validators(self, field: serializers.Field, schema: dict) -> None:
        super()._insert_field_validators(field, schema)
        branches = schema.get("oneOf")
        if branches and branches[-1] == _EMPTY_STRING:
            # drf-spectacular documents a blank-allowing email as oneOf(email, ""). Without a format
            # check "" matches both, which oneOf forbids: anyOf says "either". Its default ("")
            # belongs beside the branches, not inside the email one, where it is invalid.
            schema["anyOf"] = schema.pop("oneOf")
            for branch in branches:
                if "default" in branch:
                    schema["default"] = branch.pop("default")

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


def role_shapes(
    name: str, *shapes: type[serializers.Serializer], many: bool = False, **options: object
) -> PolymorphicProxySerializer:
    """One answer documented as the shape each kind of caller gets (staff, a supplier, ...): oneOf.

    Each shape must require a field that no other shape has, so a body matches exactly one of them
    and a validator or a generated client tells them apart without a discriminator field.
    """
    required = {shape: {n for n, f in shape().fields.items() if f.required or f.read_only} for shape in shapes}
    fields = {shape: set(shape().fields) for shape in shapes}
    for shape in shapes:
        others = set().union(*(fields[other] for other in shapes if other is not shape))
        assert required[shape] - others, f"{name}: {shape.__name__} requires no field the other shapes lack"
    return PolymorphicProxySerializer(
        component_name=name, serializers=list(shapes), resource_type_field_name=None, many=many, **options
    )
