"""Calling the tenant API as a test does: a tenant's URL, an answer's body with its status checked,
a batch pushed as the admin, the engine's incremental pass."""

from __future__ import annotations

from tests.support.ingest import push_rows
from tests.support.world import TenantWorld
from workers.tasks.evaluation import evaluation_incremental


def url(world: TenantWorld, path: str) -> str:
    return f"/api/v1/tenants/{world.tenant.slug}/{path}"


def ok(response, status: int = 200):
    assert response.status_code == status, response.content
    return response.json()


def error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


def pushed(world: TenantWorld, what: str, rows: list[dict]) -> None:
    response = push_rows(world.admin, world.tenant.slug, what, rows)
    assert response.status_code in (200, 201), response.content


def evaluate(world: TenantWorld) -> None:
    """The incremental pass over the dirty positions, as the debounced task runs it."""
    evaluation_incremental(str(world.tenant.pk))
