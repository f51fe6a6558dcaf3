"""Every write to tenancy data. Atomic, validated, audited."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from core.exceptions import Conflict
from tenants import api_key_secrets, selectors
from tenants.models import ApiKey, AuditEvent, Membership, Partner, Tenant
from tenants.principals import SYSTEM_ACTOR, Principal, actor_name


def audit_record(
    *, tenant: Tenant, actor: Principal | str, action: str, target: object, data: dict | None = None
) -> None:
    AuditEvent.objects.create(
        tenant=tenant,
        actor=actor_name(actor),
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=str(getattr(target, "pk", "")),
        data=data or {},
    )


@transaction.atomic
def tenant_create(*, slug: str, name: str, actor: Principal | str = SYSTEM_ACTOR) -> Tenant:
    tenant = Tenant(slug=slug, name=name)
    tenant.full_clean()
    tenant.save()
    audit_record(tenant=tenant, actor=actor, action="tenant.created", target=tenant, data={"slug": slug})
    return tenant


@transaction.atomic
def membership_set(
    *, tenant: Tenant, user: AbstractBaseUser, role: str, actor: Principal | str = SYSTEM_ACTOR
) -> Membership:
    membership, _ = Membership.objects.update_or_create(tenant=tenant, user=user, defaults={"role": role})
    membership.full_clean()
    selectors.api_keys_forget()  # the user's keys carry the old role
    audit_record(tenant=tenant, actor=actor, action="membership.set", target=membership, data={"role": role})
    return membership


@transaction.atomic
def partner_create(
    *,
    tenant: Tenant,
    kind: str,
    name: str,
    contact_email: str = "",
    description: str = "",
    is_active: bool = True,
    actor: Principal | str = SYSTEM_ACTOR,
) -> Partner:
    if Partner.objects.filter(tenant=tenant, name=name).exists():
        raise ValidationError({"name": "A partner with this name already exists in this tenant."})
    partner = Partner(
        tenant=tenant, kind=kind, name=name, contact_email=contact_email, description=description, is_active=is_active
    )
    # The group's name only has to be unique; guardian grants hang off the row, not the name.
    partner.group = Group.objects.create(name=f"partner:{tenant.slug}:{partner.id}")
    partner.full_clean()
    partner.save()
    audit_record(tenant=tenant, actor=actor, action="partner.created", target=partner, data={"kind": kind})
    return partner


@transaction.atomic
def partner_update(*, partner: Partner, actor: Principal | str, **changes: object) -> Partner:
    allowed = {"name", "contact_email", "description", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    new_name = changes.get("name")
    if (
        new_name is not None
        and Partner.objects.filter(tenant=partner.tenant, name=new_name).exclude(pk=partner.pk).exists()
    ):
        raise ValidationError({"name": "A partner with this name already exists in this tenant."})
    for field, value in changes.items():
        setattr(partner, field, value)
    partner.full_clean()
    partner.save()
    selectors.api_keys_forget()  # its keys carry the partner as it was (is_active)
    audit_record(
        tenant=partner.tenant, actor=actor, action="partner.updated", target=partner, data={"fields": sorted(changes)}
    )
    return partner


@transaction.atomic
def partner_delete(*, partner: Partner, actor: Principal | str) -> None:
    tenant, group = partner.tenant, partner.group
    audit_record(tenant=tenant, actor=actor, action="partner.deleted", target=partner, data={"name": partner.name})
    try:
        partner.delete()  # its keys go with it
    except ProtectedError:
        # An award (a supplier's winning quote) is kept for good: the partner stays, inactive if need be.
        raise Conflict("Records kept for good refer to this partner: set is_active to false instead.") from None
    group.delete()  # and with the group, every object permission it held
    selectors.api_keys_forget()


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    partner: Partner | None = None,
    user: AbstractBaseUser | None = None,
    expires_at: datetime | None = None,
    actor: Principal | str = SYSTEM_ACTOR,
) -> tuple[ApiKey, str]:
    """Create a key; return it with the full secret, which is never available again."""
    if (partner is None) == (user is None):
        raise ValueError("An API key belongs to exactly one partner or one staff user.")
    now = timezone.now()
    if expires_at is None:
        expires_at = now + timedelta(days=settings.API_KEY_DEFAULT_TTL_DAYS)
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    full_key, prefix, secret_hash = api_key_secrets.new_key()
    key = ApiKey(
        tenant=tenant,
        partner=partner,
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        expires_at=expires_at,
        created_by=actor.user if isinstance(actor, Principal) else None,
    )
    key.full_clean()
    key.save()
    audit_record(tenant=tenant, actor=actor, action="api_key.created", target=key, data={"prefix": prefix})
    return key, full_key


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor: Principal | str) -> ApiKey:
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
        selectors.api_keys_forget()
        audit_record(tenant=key.tenant, actor=actor, action="api_key.revoked", target=key, data={"prefix": key.prefix})
    return key


def api_key_touch(*, key: ApiKey) -> None:
    """Record use; a plain UPDATE outside any transaction so a read request stays cheap."""
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
