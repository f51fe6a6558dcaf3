"""Tenants, the partner organizations they let in, staff memberships and API keys."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.base_models import TimestampedModel

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    "Use 1-50 lowercase letters, digits and inner hyphens.",
)


class Tenant(TimestampedModel):
    """A brand: the owner of inventory, alerts and partner relations."""

    slug = models.CharField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)

    class Meta(TimestampedModel.Meta):
        pass

    def __str__(self) -> str:
        return self.slug


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    PLANNER = "planner", "Planner"
    ANALYST = "analyst", "Analyst"


class PartnerKind(models.TextChoices):
    SUPPLIER = "supplier", "Supplier"
    DISTRIBUTOR = "distributor", "Distributor"
    ERP = "erp", "ERP integration"


class Membership(TimestampedModel):
    """A staff user's role in one tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_one_per_tenant_user")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"


def partner_kind_choices() -> list[tuple[str, str]]:
    """``PartnerKind``'s choices, read when asked: the column's migration names this function rather
    than copy the list, so a new kind (an enum value and its access registry row) needs no migration."""
    return PartnerKind.choices


class Partner(TimestampedModel):
    """A supplier, distributor or ERP integration let into one tenant.

    The partner acts through its guardian group: object grants (warehouses, SKUs, RFQs) are
    permissions of that group, so every key of the partner sees the same objects.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="partners")
    kind = models.CharField(max_length=16, choices=partner_kind_choices)
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True, default="")
    description = models.TextField(blank=True, default="", max_length=2000)
    is_active = models.BooleanField(default=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="partner")

    class Meta(TimestampedModel.Meta):
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="partner_unique_name_per_tenant")]
        indexes = [models.Index(fields=["tenant", "kind"], name="partner_tenant_kind")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class ApiKey(TimestampedModel):
    """A secret for machine access to one tenant, held by a partner or by a staff user.

    Only a hash of the secret is stored; the public prefix finds the row, the hash is compared in
    constant time. The full key is shown once, when created.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta(TimestampedModel.Meta):
        constraints = [
            models.CheckConstraint(
                condition=(Q(partner__isnull=False) & Q(user__isnull=True))
                | (Q(partner__isnull=True) & Q(user__isnull=False)),
                name="api_key_one_holder",
            )
        ]
        indexes = [models.Index(fields=["tenant", "partner"], name="api_key_tenant_partner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class AuditEvent(models.Model):
    """Who changed what in a tenant; written by services in the transaction of the change."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.CharField(max_length=200)
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=100)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="audit_tenant_created")]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.target_type}:{self.target_id}"
