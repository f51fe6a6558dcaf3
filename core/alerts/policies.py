"""Alert policies: writing them (validated against the rules' specs) and resolving the effective one.

A policy sets some of a rule's settings for a scope; what it leaves empty comes from the next less
specific policy, and in the end from the rule's built-in default. Precedence, most specific
first: SKU, category, velocity class, tenant. Bands are set as a whole (yellow, orange, red).

Every create, update and delete records a ``PolicyChange`` in its transaction: the tenant's next
version number, the scope's settings before and after, who and why (``core.alerts.policy_versions``
reads them back: the policies in force at a past time, and reverts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, QuerySet

from core.alerts.catalog import DEFAULT_BANDS, INDICATORS, TURNOVER_STANDARD_DAYS, Effective
from core.alerts.models import AlertPolicy, PolicyChange, PolicyChangeAction, RuleCode
from core.alerts.rules import RULES
from core.alerts.triggers import positions_mark_dirty
from core.exceptions import Conflict, NotFound
from core.inventory.models import Category, Sku, VelocityClass
from tenants.models import Tenant
from tenants.principals import Principal, actor_name
from tenants.services import audit_record

SETTINGS = ("enabled", "standard", "bands", "thresholds", "parameters", "note")
# pg_advisory_xact_lock(namespace, hashtext(tenant)): one version number at a time per tenant.
_VERSION_LOCK_NAMESPACE = 7_201_018


def policy_list(*, tenant: Tenant) -> QuerySet[AlertPolicy]:
    return AlertPolicy.objects.filter(tenant=tenant).select_related("category", "sku").order_by("created_at", "id")


def policy_get(*, tenant: Tenant, policy_id: object) -> AlertPolicy:
    policy = policy_list(tenant=tenant).filter(pk=policy_id).first()
    if policy is None:
        raise NotFound
    return policy


def policy_settings_validated(rule: str, values: dict) -> dict:
    """Field errors for everything that does not fit the rule's spec."""
    spec = RULES[rule]
    errors: dict[str, list[str]] = {}
    standard = values.get("standard")
    if standard is not None:
        if rule != RuleCode.OVERSTOCK:
            errors.setdefault("standard", []).append(
                f"The {rule} rule has no standard value; it is graded by {spec.graded_by}."
            )
        elif not 0 < float(standard) <= 3650:
            errors.setdefault("standard", []).append("Turnover days: more than 0 and at most 3650.")
    bands = values.get("bands")
    if bands is not None:
        yellow, orange, red = (float(bands[name]) for name in ("yellow", "orange", "red"))
        if not 0 < yellow < orange < red:
            errors.setdefault("bands", []).append(
                f"Bands must increase above zero: yellow < orange < red (got {yellow}, {orange}, {red})."
            )
    for name, value in (values.get("thresholds") or {}).items():
        key = f"thresholds.{name}"
        if name not in INDICATORS:
            errors.setdefault(key, []).append(f"Unknown indicator {name!r}.")
        elif name not in spec.thresholds:
            known = ", ".join(spec.thresholds) or "none"
            errors.setdefault(key, []).append(f"The {rule} rule does not read {name!r}; its thresholds: {known}.")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            errors.setdefault(key, []).append("A number.")
        elif not spec.thresholds[name].minimum <= value <= spec.thresholds[name].maximum:
            low, high = spec.thresholds[name].minimum, spec.thresholds[name].maximum
            errors.setdefault(key, []).append(f"Between {low:g} and {high:g}.")
    for name, value in (values.get("parameters") or {}).items():
        key = f"parameters.{name}"
        parameter = spec.parameters.get(name)
        if parameter is None:
            known = ", ".join(spec.parameters) or "none"
            errors.setdefault(key, []).append(f"Unknown parameter {name!r} of {rule}; known: {known}.")
        elif parameter.choices:
            if value not in parameter.choices:
                errors.setdefault(key, []).append(f"One of: {', '.join(parameter.choices)}.")
        elif isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            errors.setdefault(key, []).append("A number.")
        elif not (parameter.minimum or 0) <= value <= (parameter.maximum if parameter.maximum is not None else 1e9):
            errors.setdefault(key, []).append(f"Between {parameter.minimum} and {parameter.maximum}.")
    if errors:
        raise ValidationError(errors)
    return values


def _scope(tenant: Tenant, velocity_class: str, category: str | None, sku: str | None) -> dict:
    named = (("velocity_class", velocity_class), ("category", category), ("sku", sku))
    given = [name for name, value in named if value]
    if len(given) > 1:
        raise ValidationError({"scope": f"One scope at most: a velocity class, a category or a SKU (got {given})."})
    scope: dict = {"velocity_class": "", "category": None, "sku": None}
    if velocity_class:
        if velocity_class not in VelocityClass.values:
            raise ValidationError({"velocity_class": f"One of: {', '.join(VelocityClass.values)}."})
        scope["velocity_class"] = velocity_class
    if category:
        scope["category"] = Category.objects.filter(tenant=tenant, code=category).first()
        if scope["category"] is None:
            raise ValidationError({"category": f"Unknown category code {category!r} in this tenant."})
    if sku:
        scope["sku"] = Sku.objects.filter(tenant=tenant, code=sku).first()
        if scope["sku"] is None:
            raise ValidationError({"sku": f"Unknown SKU code {sku!r} in this tenant."})
    return scope


def policy_settings_apply(policy: AlertPolicy, values: dict) -> None:
    for name, value in values.items():
        if name == "bands":
            bands = value or {}
            policy.yellow, policy.orange, policy.red = (
                Decimal(str(bands[key])) if value is not None else None for key in ("yellow", "orange", "red")
            )
        elif name in ("thresholds", "parameters"):
            setattr(policy, name, dict(value or {}))
        else:
            setattr(policy, name, value)


def _affected_positions(policy: AlertPolicy) -> Q:
    if policy.sku_id:
        return Q(sku_id=policy.sku_id)
    if policy.category_id:
        return Q(sku__category_id=policy.category_id)
    if policy.velocity_class:
        return Q(sku__velocity_class=policy.velocity_class)
    return Q()


@transaction.atomic
def policy_create(
    *,
    tenant: Tenant,
    actor: Principal | str,
    rule: str,
    velocity_class: str = "",
    category: str | None = None,
    sku: str | None = None,
    reason: str = "",
    evidence: dict | None = None,
    replay: dict | None = None,
    reverts: PolicyChange | None = None,
    **values: object,
) -> AlertPolicy:
    """A policy for one rule and scope; the positions it covers are evaluated again shortly. A new
    policy version records it (``reason``, and for the tuner ``evidence`` and ``replay``)."""
    if rule not in RULES:
        raise ValidationError({"rule": f"Unknown rule {rule!r}; one of: {', '.join(RULES)}."})
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown setting."))
    policy = AlertPolicy(tenant=tenant, rule=rule, **_scope(tenant, velocity_class, category, sku))
    spec = RULES[rule]
    if policy.category is not None and not spec.applies_to(policy.category.profile):
        raise ValidationError(
            {
                "category": f"Category {policy.category.code!r} has the {policy.category.profile} profile; "
                f"{rule} applies only to {', '.join(spec.profiles_listed or [])}."
            }
        )
    policy_settings_apply(policy, policy_settings_validated(rule, values))
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        existing = AlertPolicy.objects.filter(
            tenant=tenant, rule=rule, velocity_class=policy.velocity_class, category=policy.category, sku=policy.sku
        ).first()
        raise Conflict(
            f"A {rule} policy for {policy.scope_label} exists already ({existing.pk if existing else '?'}); "
            "change that one instead."
        ) from None
    positions_mark_dirty(tenant=tenant, where=_affected_positions(policy))
    audit_record(tenant=tenant, actor=actor, action="alert_policy.created", target=policy, data=policy_as_dict(policy))
    policy_change_record(
        policy=policy,
        action=PolicyChangeAction.CREATED,
        before=None,
        after=policy_settings(policy),
        actor=actor,
        reason=reason,
        evidence=evidence,
        replay=replay,
        reverts=reverts,
    )
    return policy


@transaction.atomic
def policy_update(
    *,
    policy: AlertPolicy,
    actor: Principal | str,
    reason: str = "",
    evidence: dict | None = None,
    replay: dict | None = None,
    reverts: PolicyChange | None = None,
    **values: object,
) -> AlertPolicy:
    """Change the given settings only; rule and scope stay (delete and create to move a policy)."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown setting (rule and scope cannot change)."))
    policy = AlertPolicy.objects.select_for_update(of=("self",)).select_related("category", "sku").get(pk=policy.pk)
    before = policy_settings(policy)
    policy_settings_apply(policy, policy_settings_validated(policy.rule, values))
    policy.save()
    positions_mark_dirty(tenant=policy.tenant, where=_affected_positions(policy))
    audit_record(
        tenant=policy.tenant, actor=actor, action="alert_policy.updated", target=policy, data=policy_as_dict(policy)
    )
    policy_change_record(
        policy=policy,
        action=PolicyChangeAction.UPDATED,
        before=before,
        after=policy_settings(policy),
        actor=actor,
        reason=reason,
        evidence=evidence,
        replay=replay,
        reverts=reverts,
    )
    return policy


@transaction.atomic
def policy_delete(
    *, policy: AlertPolicy, actor: Principal | str, reason: str = "", reverts: PolicyChange | None = None
) -> None:
    positions_mark_dirty(tenant=policy.tenant, where=_affected_positions(policy))
    audit_record(
        tenant=policy.tenant, actor=actor, action="alert_policy.deleted", target=policy, data=policy_as_dict(policy)
    )
    policy_change_record(
        policy=policy,
        action=PolicyChangeAction.DELETED,
        before=policy_settings(policy),
        after=None,
        actor=actor,
        reason=reason,
        reverts=reverts,
    )
    policy.delete()


def policy_settings(policy: AlertPolicy) -> dict:
    """A policy's settings as a version stores them: the shape ``policy_create`` and ``policy_update``
    take back (so a revert writes them as they were), numbers as JSON numbers."""
    return {
        "enabled": policy.enabled,
        "standard": float(policy.standard) if policy.standard is not None else None,
        "bands": policy_bands(policy),
        "thresholds": dict(policy.thresholds),
        "parameters": dict(policy.parameters),
        "note": policy.note,
    }


def policy_settings_values(settings: dict) -> dict:
    """Stored settings as a policy write takes them: decimals for the standard and the bands."""
    values = dict(settings)
    if values.get("standard") is not None:
        values["standard"] = Decimal(str(values["standard"]))
    return values


def policy_change_record(
    *,
    policy: AlertPolicy,
    action: str,
    before: dict | None,
    after: dict | None,
    actor: Principal | str,
    reason: str = "",
    evidence: dict | None = None,
    replay: dict | None = None,
    reverts: PolicyChange | None = None,
) -> PolicyChange:
    """The tenant's next policy version, in the caller's transaction. Numbers are handed out under a
    transaction-scoped lock per tenant, so two edits at once get consecutive versions, not one each."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_VERSION_LOCK_NAMESPACE, str(policy.tenant_id)]
        )
    latest = PolicyChange.objects.filter(tenant_id=policy.tenant_id).aggregate(latest=Max("version"))["latest"]
    return PolicyChange.objects.create(
        tenant_id=policy.tenant_id,
        version=(latest or 0) + 1,
        action=action,
        rule=policy.rule,
        velocity_class=policy.velocity_class,
        category_id=policy.category_id,
        sku_id=policy.sku_id,
        before=before,
        after=after,
        author=actor_name(actor),
        reason=reason.strip(),
        evidence=evidence or {},
        replay=replay or {},
        reverts=reverts,
    )


def policy_as_dict(policy: AlertPolicy) -> dict:
    return {
        "rule": policy.rule,
        "scope": policy.scope_label,
        "enabled": policy.enabled,
        "standard": float(policy.standard) if policy.standard is not None else None,
        "bands": policy_bands(policy),
        "thresholds": policy.thresholds,
        "parameters": policy.parameters,
    }


def policy_bands(policy: AlertPolicy) -> dict | None:
    if policy.yellow is None:
        return None
    return {"yellow": float(policy.yellow), "orange": float(policy.orange), "red": float(policy.red)}


# --- Resolution -----------------------------------------------------------------------------------


class PolicyBook:
    """Every policy of a tenant, loaded once per evaluation chunk; effective settings are cached.

    ``policies``: the policies to resolve with instead of the tenant's stored ones (unsaved ones
    too): those in force at a past time, or the current ones with a candidate change, for a replay.
    """

    def __init__(self, tenant: Tenant, policies: Iterable[AlertPolicy] | None = None) -> None:
        self._by_scope: dict[tuple, AlertPolicy] = {}
        if policies is None:
            policies = AlertPolicy.objects.filter(tenant=tenant).select_related("category", "sku")
        for policy in policies:
            self._by_scope[(policy.rule, policy.scope, self._scope_key(policy))] = policy
        self._cache: dict[tuple, Effective] = {}
        self._by_sku: dict[object, dict[str, Effective]] = {}

    @staticmethod
    def _scope_key(policy: AlertPolicy) -> object:
        return policy.sku_id or policy.category_id or policy.velocity_class or None

    def for_sku(self, sku_id: object, category_id: object, velocity_class: str) -> dict[str, Effective]:
        """Every rule's effective settings for one SKU, resolved once per SKU."""
        cached = self._by_sku.get(sku_id)
        if cached is None:
            cached = self._by_sku[sku_id] = {
                rule: self.effective(rule, sku_id=sku_id, category_id=category_id, velocity_class=velocity_class)
                for rule in RULES
            }
        return cached

    def effective(self, rule: str, *, sku_id: object, category_id: object, velocity_class: str) -> Effective:
        key = (rule, sku_id, category_id, velocity_class)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._resolve(rule, sku_id, category_id, velocity_class)
        return cached

    def safety_stock(
        self,
        *,
        sku_id: object,
        category_id: object,
        velocity_class: str,
        cover: float,
        service: float,
        forecast: float | None = None,
    ) -> tuple[float, str]:
        """The safety stock the SKU's stock-out policy uses (of a reading's figures), and its method.
        The forecast method falls back to the service-level one where the reading has no forecast figure."""
        method = self.effective(
            RuleCode.STOCK_OUT_RISK, sku_id=sku_id, category_id=category_id, velocity_class=velocity_class
        ).parameters["safety_stock_method"]
        if method == "cover":
            return cover, method
        if method == "forecast" and forecast is not None:
            return forecast, method
        return service, "service_level"

    def _resolve(self, rule: str, sku_id: object, category_id: object, velocity_class: str) -> Effective:
        spec = RULES[rule]
        chain = [
            self._by_scope.get((rule, "sku", sku_id)),
            self._by_scope.get((rule, "category", category_id)),
            self._by_scope.get((rule, "velocity_class", velocity_class)),
            self._by_scope.get((rule, "tenant", None)),
        ]
        chain = [policy for policy in chain if policy is not None]
        sources: dict[str, str] = {}

        def pick(name: str, read: object, default: object, default_label: str) -> object:
            for policy in chain:
                value = read(policy)
                if value is not None:
                    sources[name] = policy.scope_label
                    return value
            sources[name] = default_label
            return default

        enabled = pick("enabled", lambda p: p.enabled, True, "built-in default")
        if rule == RuleCode.OVERSTOCK:
            class_standard = TURNOVER_STANDARD_DAYS.get(velocity_class, TURNOVER_STANDARD_DAYS["long_tail"])
            standard = pick(
                "standard",
                lambda p: p.standard,
                class_standard,
                f"velocity class {velocity_class} standard",
            )
            standard = float(standard)
        else:
            standard = None
        bands = pick("bands", policy_bands, None, "built-in default")
        bands = (bands["yellow"], bands["orange"], bands["red"]) if bands else DEFAULT_BANDS
        thresholds = {
            name: float(
                pick(f"thresholds.{name}", lambda p, n=name: p.thresholds.get(n), threshold.default, "built-in default")
            )
            for name, threshold in spec.thresholds.items()
        }
        parameters = {
            name: pick(
                f"parameters.{name}", lambda p, n=name: p.parameters.get(n), parameter.default, "built-in default"
            )
            for name, parameter in spec.parameters.items()
        }
        return Effective(rule, bool(enabled), standard, bands, thresholds, parameters, sources)
