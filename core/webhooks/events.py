"""The event registry: every outbox event type, with what it means, who hears it and its payload.

Each domain app declares its own types in its ``events.py`` (imported by its AppConfig), and its
emitters name the declared entry, never a string built on the spot. The outbox refuses a type not
declared here; the OpenAPI ``webhooks`` section, the endpoint subscription choices, the reference
docs and the test suite's payload contract are all read from this one table.

A payload schema is plain JSON Schema (2020-12, as OpenAPI 3.1 uses it) of the event's ``data``,
the tenant's own payload. A partner kind's payload (``partner_payloads``) is that payload narrowed
to the keys the access registry lets the kind hear, so it is held to the same property schemas
without the ``required`` list (``partner_schema``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from jsonschema import Draft202012Validator, FormatChecker


class Audience(StrEnum):
    """Which endpoints an event may reach (the relay decides per endpoint within this)."""

    TENANT = "tenant"  # the tenant's own endpoints and its ERP's
    ADDRESSED = "addressed"  # the partner the event names, and the tenant's own and its ERP's endpoints
    GRANTED = "granted"  # besides the tenant's, every partner whose grants cover the event's SKU or warehouse
    ENDPOINT = "endpoint"  # the one endpoint it is sent to
    STAFF = "staff"  # the tenant's own endpoints only: no partner's, not even the ERP's


AUDIENCE_WORDS = {
    Audience.TENANT: "the tenant's own endpoints and its ERP's",
    Audience.ADDRESSED: "the partner it is addressed to, and the tenant's own endpoints and its ERP's",
    Audience.GRANTED: "the tenant's own endpoints, and partners' whose grants cover its SKU or warehouse",
    Audience.ENDPOINT: "the one endpoint it is sent to",
    Audience.STAFF: "the tenant's own endpoints only (no partner's, not the ERP's)",
}


@dataclass(frozen=True, eq=False)
class EventType:
    """One event type. ``schema`` is the JSON Schema of its ``data``; ``schema_name`` names that
    schema in the OpenAPI document (types whose payloads are alike share one schema and name)."""

    name: str
    description: str
    audience: Audience
    schema: Mapping = field(repr=False)
    schema_name: str
    example: Mapping | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return self.name

    @cached_property
    def partner_schema(self) -> dict:
        """The schema of a partner kind's payload: any subset of the keys, each as the schema says."""
        narrowed = copy.deepcopy(dict(self.schema))
        narrowed.pop("required", None)
        return narrowed

    @cached_property
    def _validators(self) -> tuple[Draft202012Validator, Draft202012Validator]:
        checker = FormatChecker()
        return Draft202012Validator(self.schema, format_checker=checker), Draft202012Validator(
            self.partner_schema, format_checker=checker
        )

    def payload_errors(self, data: object, *, partner: bool = False) -> list[str]:
        """What in ``data`` disagrees with the schema, one line each (``$.path: message``); [] when none."""
        validator = self._validators[1 if partner else 0]
        return sorted(f"{error.json_path}: {error.message}" for error in validator.iter_errors(data))


class EventRegistry(Mapping[str, EventType]):
    """Name -> EventType; read like a dict, written only by ``register``."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def register(self, event_type: EventType) -> EventType:
        known = self._types.get(event_type.name)
        if known is not None and known is not event_type:
            raise ValueError(f"Event type {event_type.name!r} is declared twice.")
        Draft202012Validator.check_schema(event_type.schema)
        self._types[event_type.name] = event_type
        return event_type

    def unknown(self, names: Iterable[str]) -> set[str]:
        return set(names) - self._types.keys()


EVENT_TYPES = EventRegistry()


def event_type_declare(
    name: str,
    *,
    description: str,
    audience: Audience,
    schema: Mapping,
    schema_name: str,
    example: Mapping | None = None,
) -> EventType:
    """Declare (register) an event type; the answer is the entry its emitters name."""
    return EVENT_TYPES.register(
        EventType(
            name=name,
            description=description,
            audience=audience,
            schema=schema,
            schema_name=schema_name,
            example=example,
        )
    )


# Building blocks of payload schemas, in the words OpenAPI 3.1 uses for them.
UUID = {"type": "string", "format": "uuid"}
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number", "format": "double"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}


def described(schema: Mapping, description: str) -> dict:
    return {**schema, "description": description}


def nullable(schema: Mapping) -> dict:
    """``schema`` or null."""
    widened = dict(schema)
    widened["type"] = [schema["type"], "null"]
    if "enum" in schema:
        widened["enum"] = [*schema["enum"], None]
    return widened


def choice(choices: Iterable[tuple[str, str]] | Iterable[str]) -> dict:
    """One of ``choices``: values, or (value, label) pairs (a TextChoices' ``choices``), listed as
    drf-spectacular lists a choice field's."""
    pairs = [item if isinstance(item, tuple) else (item, item) for item in choices]
    return {
        "enum": [value for value, _ in pairs],
        "type": "string",
        "description": "\n".join(f"* `{value}` - {label}" for value, label in pairs),
    }


def decimal(max_digits: int, decimal_places: int) -> dict:
    """A decimal written as a string (as Decimal values go into a JSON payload)."""
    whole = max_digits - decimal_places
    return {
        "type": "string",
        "format": "decimal",
        "pattern": rf"^-?\d{{0,{whole}}}(?:\.\d{{0,{decimal_places}}})?$",
    }


def payload(properties: Mapping[str, Mapping], *, optional: Iterable[str] = ()) -> dict:
    """An object with exactly these keys (``optional`` ones may be left out) and no others."""
    optional = set(optional)
    unknown = optional - properties.keys()
    if unknown:
        raise ValueError(f"Optional keys that are not properties: {sorted(unknown)}")
    return {
        "type": "object",
        "properties": dict(properties),
        "required": sorted(key for key in properties if key not in optional),
        "additionalProperties": False,
    }


def payload_violations(type_name: str, data: object, partner_payloads: Mapping | None = None) -> list[str]:
    """Every way an outbox event of ``type_name`` disagrees with the registry: an unknown type, the
    tenant's payload, or a partner kind's payload (``$.path: message``, prefixed by whose payload)."""
    event_type = EVENT_TYPES.get(type_name)
    if event_type is None:
        return [f"type {type_name!r} is not in the event registry"]
    problems = [f"data {line}" for line in event_type.payload_errors(data)]
    if not isinstance(partner_payloads, Mapping):
        return [*problems, f"partner_payloads is not an object: {partner_payloads!r}"]
    for kind, shaped in sorted(partner_payloads.items()):
        problems += [f"partner_payloads[{kind}] {line}" for line in event_type.payload_errors(shaped, partner=True)]
    return problems


def _field_words(schema: Mapping) -> str:
    kinds = schema.get("type", "")
    kinds = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if schema.get("format") and schema.get("format") != "double":
        kinds = f"{kinds} ({schema['format']})"
    if "enum" in schema:
        kinds = "one of " + ", ".join(f"`{value}`" if value is not None else "null" for value in schema["enum"])
    return kinds


def events_reference_markdown() -> str:
    """The reference of every event type as markdown: name, description, audience and payload."""
    lines = [
        "# Event types",
        "",
        "Generated from the event registry (`core/webhooks/events.py`, filled by each app's `events.py`).",
        "Every event reaches an endpoint as `{type, timestamp, data}`; `data` is described below. A partner's",
        "endpoint gets the keys its kind may hear of them (the access registry), each as described.",
        "",
        "| event | what happened | who hears it |",
        "| --- | --- | --- |",
        *(
            f"| `{event.name}` | {event.description} | {AUDIENCE_WORDS[event.audience]} |"
            for event in sorted(EVENT_TYPES.values(), key=lambda event: event.name)
        ),
    ]
    for event in sorted(EVENT_TYPES.values(), key=lambda event: event.name):
        required = set(event.schema.get("required", ()))
        lines += [
            "",
            f"### `{event.name}`",
            "",
            f"{event.description} Heard by {AUDIENCE_WORDS[event.audience]}.",
            "",
            "| field | type | always there | notes |",
            "| --- | --- | --- | --- |",
        ]
        for key, schema in event.schema.get("properties", {}).items():
            notes = " ".join(str(schema.get("description", "")).split()).replace("|", "/")
            always = "yes" if key in required else "no"
            lines.append(f"| `{key}` | {_field_words(schema)} | {always} | {notes} |")
    return "\n".join(lines) + "\n"


WEBHOOK_PING = event_type_declare(
    "webhook.ping",
    description="Sent by webhook-endpoints/{id}/test/.",
    audience=Audience.ENDPOINT,
    schema=payload({"endpoint_id": UUID}),
    schema_name="PingEventData",
    example={"endpoint_id": "7d1c2f0a-93b4-4c43-9a83-0d5b7f0f7f11"},
)
