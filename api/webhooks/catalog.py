"""The webhook event catalog as OpenAPI 3.1 ``webhooks``, generated from the event registry: the
envelope of every event and its ``data``, whose schema is the one the type declares.

Every delivery is a POST with the Standard Webhooks headers (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``); any 2xx answer counts as received.
"""

from __future__ import annotations

import copy
from typing import ClassVar

from django.apps import apps
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import get_class
from drf_spectacular.utils import OpenApiResponse, OpenApiWebhook, extend_schema
from rest_framework import serializers

from core.webhooks.events import EVENT_TYPES, EventType


class EventData(serializers.Serializer):
    """An event's ``data``: documented by its type's registered schema (one subclass per schema name)."""

    event_type: ClassVar[EventType]


class EventDataExtension(OpenApiSerializerExtension):
    target_class = EventData
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):  # noqa: ANN001, ANN201 - drf-spectacular's signature
        return copy.deepcopy(dict(get_class(self.target).event_type.schema))


def _data_serializers() -> dict[str, type[EventData]]:
    """One EventData subclass per schema name, named after it (so the component keeps that name)."""
    classes: dict[str, type[EventData]] = {}
    for event_type in EVENT_TYPES.values():
        known = classes.get(event_type.schema_name)
        if known is not None and known.event_type.schema != event_type.schema:
            raise ValueError(f"Two different schemas are both named {event_type.schema_name}")
        classes.setdefault(
            event_type.schema_name, type(event_type.schema_name, (EventData,), {"event_type": event_type})
        )
    return classes


def _webhook(event_type: EventType, data: type[EventData]) -> OpenApiWebhook:
    envelope = type(
        f"{data.__name__.removesuffix('Data')}{event_type.name.split('.')[-1].title()}Envelope",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=[event_type.name]),
            "timestamp": serializers.DateTimeField(help_text="When the event happened."),
            "data": data(),
        },
    )
    return OpenApiWebhook(
        name=event_type.name,
        decorator=extend_schema(
            summary=event_type.description,
            description="Signed as Standard Webhooks describes; the same event always has the same webhook-id.",
            request=envelope,
            responses={
                200: OpenApiResponse(description="Any 2xx: received."),
                "default": OpenApiResponse(description="Any other answer, or none in time: retried with backoff."),
            },
        ),
    )


def _webhooks() -> list[OpenApiWebhook]:
    apps.check_apps_ready()  # every app has declared its event types
    data = _data_serializers()
    # By name: the order types were declared in depends on which module was imported first.
    return [_webhook(EVENT_TYPES[name], data[EVENT_TYPES[name].schema_name]) for name in sorted(EVENT_TYPES)]


# SPECTACULAR_SETTINGS["WEBHOOKS"] names this list.
WEBHOOKS = _webhooks()
