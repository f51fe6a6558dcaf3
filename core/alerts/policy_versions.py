"""Policy versions read back: the versions of a tenant, the policies in force at a past time, a
book with a candidate setting applied (for a shadow replay), and reverting a version.

Every policy write records a ``PolicyChange`` (``core.alerts.policies``). The policies in force at a
time are rebuilt from them, scope by scope: the settings after the last change at or before that
time; with none, the settings before the first change after it; with no change at all, the stored
policy if it was created by then (policies older than any recorded change count as in force since
their creation).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from core.alerts.models import AlertPolicy, PolicyChange
from core.alerts.policies import (
    PolicyBook,
    policy_create,
    policy_delete,
    policy_settings_apply,
    policy_settings_validated,
    policy_settings_values,
    policy_update,
)
from core.exceptions import Conflict, NotFound
from core.inventory.models import Category, Sku
from tenants.models import Tenant
from tenants.principals import Principal

# A scope of one rule's policy: (rule, velocity class, category id, SKU id), "" and None where unset.
ScopeKey = tuple[str, str, object, object]


def scope_key_of(item: AlertPolicy | PolicyChange) -> ScopeKey:
    return (item.rule, item.velocity_class or "", item.category_id, item.sku_id)


def policy_change_list(*, tenant: Tenant) -> QuerySet[PolicyChange]:
    return PolicyChange.objects.filter(tenant=tenant).select_related("category", "sku", "reverts").order_by("version")


def policy_change_get(*, tenant: Tenant, change_id: object) -> PolicyChange:
    change = policy_change_list(tenant=tenant).filter(pk=change_id).first()
    if change is None:
        raise NotFound
    return change


def _unsaved_policy(tenant: Tenant, key: ScopeKey, settings: dict, categories: dict, skus: dict) -> AlertPolicy:
    rule, velocity_class, category_id, sku_id = key
    policy = AlertPolicy(
        tenant=tenant,
        rule=rule,
        velocity_class=velocity_class,
        category=categories.get(category_id) if category_id else None,
        sku=skus.get(sku_id) if sku_id else None,
    )
    policy_settings_apply(policy, policy_settings_values(settings))
    return policy


def policies_as_of(*, tenant: Tenant, at: datetime) -> list[AlertPolicy]:
    """The policies in force at ``at``: unsaved ``AlertPolicy`` objects rebuilt from the versions, and
    the stored ones of scopes no version mentions."""
    stored = {scope_key_of(policy): policy for policy in policy_list_for_book(tenant)}
    settings_at: dict[ScopeKey, dict | None] = {}
    for change in PolicyChange.objects.filter(tenant=tenant).order_by("version"):
        key = scope_key_of(change)
        if change.created_at <= at:
            settings_at[key] = change.after
        elif key not in settings_at:
            # The first change after ``at``: what it started from was in force then, unless it found a
            # policy of no recorded creation that was created after ``at``.
            before = change.before
            current = stored.get(key)
            if before is not None and current is not None and current.created_at > at:
                before = None
            settings_at[key] = before
    in_force = [policy for key, policy in stored.items() if key not in settings_at and policy.created_at <= at]
    categories = Category.objects.in_bulk({key[2] for key in settings_at if key[2]})
    skus = Sku.objects.in_bulk({key[3] for key in settings_at if key[3]})
    rebuilt = [
        _unsaved_policy(tenant, key, settings, categories, skus)
        for key, settings in settings_at.items()
        if settings is not None
    ]
    return in_force + rebuilt


def policy_list_for_book(tenant: Tenant) -> QuerySet[AlertPolicy]:
    return AlertPolicy.objects.filter(tenant=tenant).select_related("category", "sku")


# Books already built, by what decides them: a replay asks for one per day, and most days of a
# period have the same policies in force. A book only caches what it resolves, so sharing is safe.
_BOOKS: dict[tuple, PolicyBook] = {}
_BOOKS_KEPT = 32


def policy_book_as_of(*, tenant: Tenant, at: datetime) -> PolicyBook:
    """The policies in force at ``at``, ready to resolve (what a replay of that day evaluates with).
    The same book is answered for every time with the same versions and stored policies in force."""
    versions = list(PolicyChange.objects.filter(tenant=tenant).order_by("version").values_list("version", "created_at"))
    stored = sorted(AlertPolicy.objects.filter(tenant=tenant).values_list("id", "created_at", "updated_at"))
    key = (
        tenant.pk,
        tuple(version for version, created_at in versions if created_at <= at),
        len(versions),
        tuple((str(pk), created_at <= at, updated_at) for pk, created_at, updated_at in stored),
    )
    book = _BOOKS.get(key)
    if book is None:
        if len(_BOOKS) >= _BOOKS_KEPT:
            _BOOKS.clear()
        book = _BOOKS[key] = PolicyBook(tenant, policies=policies_as_of(tenant=tenant, at=at))
    return book


def policy_book_with(
    *,
    tenant: Tenant,
    rule: str,
    settings: dict,
    velocity_class: str = "",
    category: Category | None = None,
    sku: Sku | None = None,
    base: list[AlertPolicy] | None = None,
) -> PolicyBook:
    """A book of ``base`` (default: the stored policies) with ``settings`` applied to one scope's
    policy of ``rule``, or a new policy there: nothing is saved. The candidate is validated as a
    policy write would be, so a shadow replay never runs with settings the API would refuse."""
    policies = list(base if base is not None else policy_list_for_book(tenant))
    key = (rule, velocity_class, category.pk if category else None, sku.pk if sku else None)
    values = policy_settings_validated(rule, policy_settings_values(settings))
    candidates = []
    changed = False
    for policy in policies:
        if scope_key_of(policy) == key:
            candidate = AlertPolicy(
                tenant=tenant,
                rule=rule,
                velocity_class=velocity_class,
                category=category,
                sku=sku,
                enabled=policy.enabled,
                standard=policy.standard,
                yellow=policy.yellow,
                orange=policy.orange,
                red=policy.red,
                thresholds=dict(policy.thresholds),
                parameters=dict(policy.parameters),
                note=policy.note,
            )
            _apply_merged(candidate, values)
            candidates.append(candidate)
            changed = True
        else:
            candidates.append(policy)
    if not changed:
        candidate = AlertPolicy(tenant=tenant, rule=rule, velocity_class=velocity_class, category=category, sku=sku)
        _apply_merged(candidate, values)
        candidates.append(candidate)
    return PolicyBook(tenant, policies=candidates)


def _apply_merged(policy: AlertPolicy, values: dict) -> None:
    """Settings onto a policy, thresholds and parameters merged key by key (a candidate changes one)."""
    merged = dict(values)
    for name in ("thresholds", "parameters"):
        if name in merged:
            merged[name] = {**getattr(policy, name), **(merged[name] or {})}
    policy_settings_apply(policy, merged)


def scope_policy_locked(scoped: PolicyChange | object) -> AlertPolicy | None:
    """The stored policy of the rule and scope ``scoped`` names (a version, a tuner's step), locked."""
    return (
        AlertPolicy.objects.select_for_update(of=("self",))
        .filter(
            tenant_id=scoped.tenant_id,
            rule=scoped.rule,
            velocity_class=scoped.velocity_class,
            category_id=scoped.category_id,
            sku_id=scoped.sku_id,
        )
        .first()
    )


@transaction.atomic
def policy_change_revert(*, change: PolicyChange, actor: Principal | str, reason: str = "") -> PolicyChange:
    """A new version that puts the change's scope back as it was before it: the policy deleted if the
    change created it, re-created if it deleted it, its settings restored otherwise."""
    policy = scope_policy_locked(change)
    why = reason.strip() or f"Revert of version {change.version}."
    if change.before is None:
        if policy is None:
            raise Conflict(f"Version {change.version} created a policy that is gone already; nothing to revert to.")
        policy_delete(policy=policy, actor=actor, reason=why, reverts=change)
    elif policy is None:
        scope = {
            "velocity_class": change.velocity_class,
            "category": change.category.code if change.category_id else None,
            "sku": change.sku.code if change.sku_id else None,
        }
        try:
            policy_create(
                tenant=change.tenant,
                actor=actor,
                rule=change.rule,
                reason=why,
                reverts=change,
                **scope,
                **policy_settings_values(change.before),
            )
        except ValidationError as error:
            raise Conflict(f"Version {change.version} cannot be restored: {error.messages[0]}") from None
    else:
        policy_update(policy=policy, actor=actor, reason=why, reverts=change, **policy_settings_values(change.before))
    return PolicyChange.objects.filter(tenant_id=change.tenant_id).order_by("-version").first()
