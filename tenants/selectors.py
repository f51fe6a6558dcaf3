"""Reads of tenancy data. Every lookup by id takes the tenant: a foreign id is simply not found."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from core.exceptions import NotFound
from tenants import api_key_secrets
from tenants.models import ApiKey, AuditEvent, Membership, Partner, Tenant
from tenants.principals import Principal


class InvalidApiKey(Exception):
    """The key cannot be used; the message says why and what to do."""


# --- API keys kept in memory -----------------------------------------------------------------------
#
# Looking a key up and then its holder's membership were two of a list page's three statements and
# a third of its Python. A process keeps each key it has read (with its tenant, holder and the staff
# holder's role) for API_KEY_CACHE_SECONDS: a change made elsewhere (another process revokes the key,
# changes the role, deactivates the holder) is refused or narrowed within that bound; the services
# that make those changes clear this process's copy at once and again on commit. The secret is
# checked against the stored hash and the expiry against the clock on every request; grants are
# never kept (each list reads them in its own statement).


@dataclass(frozen=True)
class _KeptKey:
    key: ApiKey
    until: float  # time.monotonic()


_KEPT: dict[str, _KeptKey] = {}
_KEPT_MAX = 10_000  # keys per process; past it the copy starts afresh
_UNREAD = object()  # a key not read by _key_read: its holder's role is read apart


def api_keys_forget() -> None:
    """Drop this process's copies of keys now and when the current transaction commits (a copy
    read meanwhile by another thread from the old rows goes too)."""
    _KEPT.clear()
    transaction.on_commit(_KEPT.clear)


def _key_read(prefix: str) -> ApiKey | None:
    """The key of ``prefix`` with its tenant, holder and (for a staff key) role, in one statement."""
    role = Membership.objects.filter(tenant=OuterRef("tenant"), user=OuterRef("user")).values("role")[:1]
    return (
        ApiKey.objects.select_related("tenant", "partner", "user")
        .annotate(holder_role=Subquery(role))
        .filter(prefix=prefix)
        .first()
    )


def _key_by_prefix(prefix: str) -> ApiKey | None:
    seconds = settings.API_KEY_CACHE_SECONDS
    if seconds <= 0:
        return _key_read(prefix)
    now = time.monotonic()
    kept = _KEPT.get(prefix)
    if kept is not None and kept.until > now:
        return kept.key
    key = _key_read(prefix)
    if key is not None:  # an unknown prefix is not kept: a key created since works at once
        if len(_KEPT) >= _KEPT_MAX:
            _KEPT.clear()
        _KEPT[prefix] = _KeptKey(key, now + seconds)
    return key


def api_key_authenticate(*, raw_key: str) -> ApiKey:
    """The active key that ``raw_key`` spells; InvalidApiKey otherwise."""
    parsed = api_key_secrets.parse_key(raw_key)
    if parsed is None:
        raise InvalidApiKey("Malformed API key: expected 'tl_<prefix>_<secret>' as issued by Tripline.")
    key = _key_by_prefix(parsed.prefix)
    if key is None or not api_key_secrets.secret_matches(parsed.secret, key.secret_hash):
        raise InvalidApiKey("Unknown API key. Check that it was copied whole, or ask the tenant's admin for a new one.")
    # Past this point the caller holds the secret, so saying why it fails tells them nothing new.
    if key.status == "revoked":
        raise InvalidApiKey("This API key was revoked. Ask the tenant's admin for a new one.")
    if key.status == "expired":
        raise InvalidApiKey("This API key has expired. Ask the tenant's admin for a new one.")
    if (key.partner is not None and not key.partner.is_active) or (key.user is not None and not key.user.is_active):
        raise InvalidApiKey("The holder of this API key is deactivated in this tenant.")
    return key


def principal_resolve(*, tenant_slug: str, user: AbstractBaseUser | None, api_key: ApiKey | None) -> Principal:
    """The caller's identity in the tenant named by ``tenant_slug``; NotFound if it is not theirs."""
    if api_key is not None:
        if api_key.tenant.slug != tenant_slug:
            raise NotFound
        if api_key.partner is not None:
            return Principal(tenant=api_key.tenant, partner=api_key.partner, api_key=api_key)
        role = getattr(api_key, "holder_role", _UNREAD)  # read with the key by api_key_authenticate
        if role is _UNREAD:
            membership = Membership.objects.filter(tenant=api_key.tenant, user=api_key.user).first()
            role = membership.role if membership is not None else None
        if role is None:
            raise NotFound
        return Principal(tenant=api_key.tenant, user=api_key.user, role=role, api_key=api_key)
    if user is None or not user.is_authenticated:
        raise NotFound
    membership = Membership.objects.select_related("tenant").filter(tenant__slug=tenant_slug, user=user).first()
    if membership is None:
        raise NotFound
    return Principal(tenant=membership.tenant, user=user, role=membership.role)


def tenants_visible(*, user: AbstractBaseUser | None, api_key: ApiKey | None) -> list[dict]:
    """The caller's tenants with its access there: a partner key's one tenant, or a user's
    memberships (a staff key is bound to its own tenant)."""
    if api_key is not None and api_key.partner is not None:
        return [{"slug": api_key.tenant.slug, "name": api_key.tenant.name, "access": api_key.partner.kind}]
    if api_key is not None:
        memberships = Membership.objects.filter(user=api_key.user, tenant=api_key.tenant)
    elif user is not None and user.is_authenticated:
        memberships = Membership.objects.filter(user=user)
    else:
        return []
    return list(
        memberships.order_by("tenant__slug").values(slug=F("tenant__slug"), name=F("tenant__name"), access=F("role"))
    )


def partner_list(*, tenant: Tenant) -> QuerySet[Partner]:
    return Partner.objects.filter(tenant=tenant).order_by("created_at", "id")


def partner_get(*, tenant: Tenant, partner_id: object) -> Partner:
    partner = Partner.objects.filter(tenant=tenant, pk=partner_id).first()
    if partner is None:
        raise NotFound
    return partner


def api_key_list(
    *, tenant: Tenant, partner: Partner | None = None, user: AbstractBaseUser | None = None
) -> QuerySet[ApiKey]:
    keys = ApiKey.objects.filter(tenant=tenant)
    if partner is not None:
        keys = keys.filter(partner=partner)
    if user is not None:
        keys = keys.filter(user=user)
    return keys.order_by("created_at", "id")


def api_key_get(
    *, tenant: Tenant, key_id: object, partner: Partner | None = None, user: AbstractBaseUser | None = None
) -> ApiKey:
    key = api_key_list(tenant=tenant, partner=partner, user=user).filter(pk=key_id).first()
    if key is None:
        raise NotFound
    return key


def api_key_needs_touch(*, key: ApiKey, resolution_seconds: float) -> bool:
    return key.last_used_at is None or (timezone.now() - key.last_used_at).total_seconds() >= resolution_seconds


def audit_events(*, tenant: Tenant, actions: list[str]) -> QuerySet[AuditEvent]:
    """The tenant's audit events of these actions, oldest first."""
    return AuditEvent.objects.filter(tenant=tenant, action__in=actions).order_by("created_at", "id")
