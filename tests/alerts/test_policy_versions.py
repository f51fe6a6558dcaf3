"""Policy versions: every policy write is one, listed under policy-changes/, any can be reverted, and
the policies in force at a past time are rebuilt from them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.alerts.models import AlertPolicy, PolicyChange
from core.alerts.policy_versions import policy_book_as_of, policy_book_with
from core.inventory.models import VelocityClass
from tests.support.calls import error, ok, url


def _policies(world) -> str:
    return url(world, "alert-policies/")


def _create(world, caller=None, **body) -> dict:
    return ok((caller or world.admin).client.post(_policies(world), body, format="json"), 201)


def _changes(world, caller=None, **params) -> list[dict]:
    return ok((caller or world.admin).client.get(url(world, "policy-changes/"), params))["results"]


def _revert(world, change_id: str, caller=None, **body):
    return (caller or world.planner).client.post(url(world, f"policy-changes/{change_id}/revert/"), body, format="json")


def _standard(book, world) -> float:
    sku = world.sku
    return book.effective(
        "overstock", sku_id=sku.pk, category_id=sku.category_id, velocity_class=sku.velocity_class
    ).standard


def test_each_policy_edit_is_a_version_with_its_author_and_reason(world) -> None:
    policy = _create(world, rule="overstock", sku="SKU-1", standard="100", reason="buyer says 100 days")
    path = f"{_policies(world)}{policy['id']}/"
    ok(world.planner.client.patch(path, {"standard": "120", "reason": "slower season"}, format="json"))
    _create(world, rule="slow_moving", thresholds={"weighted_age_days": 120})
    assert world.admin.client.delete(f"{path}?reason=retired").status_code == 204

    changes = _changes(world)
    assert [(c["version"], c["action"], c["rule"]) for c in changes] == [
        (1, "created", "overstock"),
        (2, "updated", "overstock"),
        (3, "created", "slow_moving"),
        (4, "deleted", "overstock"),
    ]
    created, updated, _, deleted = changes
    assert (created["before"], created["after"]["standard"], created["reason"]) == (None, 100.0, "buyer says 100 days")
    assert (created["scope"], created["sku"], created["category"]) == ("sku", "SKU-1", None)
    assert created["author"].startswith(f"user:{world.admin.user.get_username()} key:")
    assert (updated["before"]["standard"], updated["after"]["standard"]) == (100.0, 120.0)
    assert updated["author"].startswith(f"user:{world.planner.user.get_username()} key:")
    assert (deleted["before"]["standard"], deleted["after"], deleted["reason"]) == (120.0, None, "retired")
    assert all(c["reverts"] is None and c["evidence"] == {} and c["replay"] == {} for c in changes)

    assert [c["version"] for c in _changes(world, rule="slow_moving")] == [3]
    assert [c["version"] for c in _changes(world, author=updated["author"])] == [2]
    assert ok(world.analyst.client.get(url(world, f"policy-changes/{updated['id']}/"))) == updated
    assert error(world.admin.client.get(url(world, "policy-changes/"), {"rule": "nope"}), 400)["fields"]


def test_a_refused_policy_write_records_no_version(world) -> None:
    error(world.admin.client.post(_policies(world), {"rule": "overstock", "standard": "-1"}, format="json"), 400)
    _create(world, rule="overstock")
    error(world.admin.client.post(_policies(world), {"rule": "overstock"}, format="json"), 409)
    assert [c["version"] for c in _changes(world)] == [1]


def test_revert_makes_a_new_version_restoring_the_scope_as_it_was(world) -> None:
    policy = _create(world, rule="overstock", sku="SKU-1", standard="100")
    path = f"{_policies(world)}{policy['id']}/"
    ok(
        world.admin.client.patch(
            path, {"standard": "150", "bands": {"yellow": "0.2", "orange": "0.3", "red": "0.5"}}, format="json"
        )
    )
    update = _changes(world)[-1]

    reverted = ok(_revert(world, update["id"], reason="too lax"), 201)
    assert (reverted["version"], reverted["action"], reverted["reverts"]) == (3, "updated", update["id"])
    assert reverted["after"] == update["before"]
    assert reverted["reason"] == "too lax"
    now = ok(world.admin.client.get(path))
    assert (now["standard"], now["bands"]) == (100.0, None)

    # Reverting the creation deletes the policy; reverting that deletion brings it back.
    creation = _changes(world)[0]
    undone = ok(_revert(world, creation["id"]), 201)
    assert (undone["action"], undone["after"], undone["reason"]) == ("deleted", None, "Revert of version 1.")
    assert world.admin.client.get(path).status_code == 404
    redone = ok(_revert(world, undone["id"]), 201)
    assert (redone["action"], redone["after"]["standard"]) == ("created", 100.0)
    assert [p["standard"] for p in ok(world.admin.client.get(_policies(world)))["results"]] == [100.0]

    # The creation again: its policy was re-created by a later version, so it goes once more; then
    # there is nothing left to delete.
    ok(_revert(world, creation["id"]), 201)
    refused = error(_revert(world, creation["id"]), 409)
    assert "nothing to revert" in refused["message"]
    assert set(error(_revert(world, creation["id"], colour="red"), 400)["fields"]) == {"colour"}


def test_revert_of_another_tenants_version_is_404_and_only_planners_and_admins_revert(world, other_world) -> None:
    _create(other_world, rule="overstock", standard="90")
    foreign = _changes(other_world)[0]
    assert _revert(world, foreign["id"]).status_code == 404
    assert world.admin.client.get(url(world, f"policy-changes/{foreign['id']}/")).status_code == 404
    assert _changes(world) == []

    _create(world, rule="overstock", standard="90")
    own = _changes(world)[0]
    assert _revert(world, own["id"], caller=world.analyst).status_code == 403
    for kind, partner in world.partners.items():
        assert partner.client.get(url(world, "policy-changes/")).status_code == 403, kind
        assert partner.client.get(url(world, f"policy-changes/{own['id']}/")).status_code == 403, kind
        assert _revert(world, own["id"], caller=partner).status_code == 403, kind
    assert [c["version"] for c in _changes(world)] == [1]
    assert [c["version"] for c in _changes(other_world, caller=other_world.admin)] == [1]


def test_policy_book_as_of_rebuilds_the_policies_in_force_then(world) -> None:
    default = _standard(policy_book_as_of(tenant=world.tenant, at=timezone.now()), world)
    before_any = timezone.now()
    policy = _create(world, rule="overstock", sku="SKU-1", standard="100")
    after_create = timezone.now()
    path = f"{_policies(world)}{policy['id']}/"
    ok(world.admin.client.patch(path, {"standard": "150"}, format="json"))
    after_update = timezone.now()
    assert world.admin.client.delete(path).status_code == 204
    after_delete = timezone.now()

    assert _standard(policy_book_as_of(tenant=world.tenant, at=before_any), world) == default
    assert _standard(policy_book_as_of(tenant=world.tenant, at=after_create), world) == 100.0
    assert _standard(policy_book_as_of(tenant=world.tenant, at=after_update), world) == 150.0
    assert _standard(policy_book_as_of(tenant=world.tenant, at=after_delete), world) == default


def test_a_policy_older_than_any_version_is_in_force_since_its_creation(world) -> None:
    # Written before versions existed (straight into the table, as a migration-era row would be).
    before = timezone.now()
    AlertPolicy.objects.create(
        tenant=world.tenant, rule="overstock", velocity_class=world.sku.velocity_class, standard=70
    )
    created = timezone.now()
    assert not PolicyChange.objects.filter(tenant=world.tenant).exists()
    assert _standard(policy_book_as_of(tenant=world.tenant, at=created), world) == 70.0
    assert _standard(policy_book_as_of(tenant=world.tenant, at=before), world) != 70.0

    # Its first recorded change starts from it: before that change the old settings were in force.
    (row,) = ok(world.admin.client.get(_policies(world)))["results"]
    ok(world.admin.client.patch(f"{_policies(world)}{row['id']}/", {"standard": "80"}, format="json"))
    assert _standard(policy_book_as_of(tenant=world.tenant, at=created), world) == 70.0
    assert _standard(policy_book_as_of(tenant=world.tenant, at=timezone.now()), world) == 80.0


def test_a_candidate_book_applies_one_setting_without_saving(world) -> None:
    _create(
        world, rule="overstock", sku="SKU-1", standard="100", bands={"yellow": "0.2", "orange": "0.3", "red": "0.5"}
    )
    book = policy_book_with(tenant=world.tenant, rule="overstock", sku=world.sku, settings={"standard": 120})
    effective = book.effective(
        "overstock", sku_id=world.sku.pk, category_id=world.sku.category_id, velocity_class=world.sku.velocity_class
    )
    assert (effective.standard, effective.bands) == (120.0, (0.2, 0.3, 0.5))  # the rest of the policy stays
    assert float(AlertPolicy.objects.get(tenant=world.tenant).standard) == 100.0

    # A scope without a policy gets a new one, thresholds merged into the defaults.
    book = policy_book_with(
        tenant=world.tenant,
        rule="slow_moving",
        velocity_class=VelocityClass.LONG_TAIL,
        settings={"thresholds": {"weighted_age_days": 108}},
    )
    slow = book.effective("slow_moving", sku_id=None, category_id=None, velocity_class=VelocityClass.LONG_TAIL)
    assert slow.thresholds == {"wow_change": -0.40, "weighted_age_days": 108.0}
    assert AlertPolicy.objects.filter(tenant=world.tenant).count() == 1
    with pytest.raises(ValidationError, match="Between"):
        policy_book_with(tenant=world.tenant, rule="slow_moving", settings={"thresholds": {"weighted_age_days": 0}})
