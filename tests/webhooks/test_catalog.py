"""The event catalog is in the OpenAPI schema as webhooks, each with its envelope and data."""

from core.webhooks.outbox import EVENT_TYPES


def test_every_event_type_is_documented_as_a_webhook(client) -> None:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["webhooks"]) == set(EVENT_TYPES)
    opened = schema["webhooks"]["alert.opened"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    envelope = schema["components"]["schemas"][opened["$ref"].rsplit("/", 1)[-1]]
    assert set(envelope["properties"]) == {"type", "timestamp", "data"}
