"""The demo tenant: an admin, one partner of each kind, fresh keys each run."""

import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from core.procurement.services import procurement_limits_update
from core.retries import atomic_retried
from tenants import services
from tenants.models import ApiKey, PartnerKind, Role, Tenant

DEMO_TENANT_SLUG = "acme"
DEMO_ADMIN_USERNAME = "admin"
# Console users of the other two roles, with the admin's password: a planner acts, an analyst reads.
DEMO_ROLE_USERNAMES = {Role.PLANNER: "planner", Role.ANALYST: "analyst"}
DEMO_PARTNERS = [
    (PartnerKind.SUPPLIER, "Northwind Components", "supply@northwind.example"),
    (PartnerKind.DISTRIBUTOR, "Metro Distribution", "ops@metro-distribution.example"),
    (PartnerKind.ERP, "Acme SAP Integration", "erp-team@acme.example"),
]
DEMO_KEY_NAME = "demo"
# The demo's months of history arrive at once, so its first evaluation finds every stock-out of
# them together and opens some 30 RFQs in a minute; under the default of 20 an hour the rest, and
# the user's own first red stock-out after them, would be held for the hour. The demo tenant starts
# with room above what the demo opens; an admin changes it with PATCH procurement-limits/.
DEMO_RFQS_PER_HOUR = 60


@dataclass
class DemoCredentials:
    tenant: Tenant
    admin_username: str
    admin_password: str
    partner_keys: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, name, key)
    admin_key: str = ""


@atomic_retried
def demo_tenant_seed() -> DemoCredentials:
    """Create the demo tenant once; on every run give the admin a new password and every demo
    principal a new key (the old demo keys are revoked), since secrets cannot be shown again."""
    tenant = Tenant.objects.filter(slug=DEMO_TENANT_SLUG).first()
    if tenant is None:
        tenant = services.tenant_create(slug=DEMO_TENANT_SLUG, name="Acme Outdoor Co.")
        procurement_limits_update(tenant=tenant, actor="demo", rfqs_per_hour=DEMO_RFQS_PER_HOUR)

    password = secrets.token_urlsafe(12)
    user_model = get_user_model()
    admin, _ = user_model.objects.get_or_create(username=DEMO_ADMIN_USERNAME, defaults={"email": "admin@acme.example"})
    admin.is_staff = True
    admin.is_superuser = True  # the demo admin also runs the Django admin site
    admin.set_password(password)
    admin.save()
    services.membership_set(tenant=tenant, user=admin, role=Role.ADMIN)
    for role, username in DEMO_ROLE_USERNAMES.items():
        user, _ = user_model.objects.get_or_create(username=username, defaults={"email": f"{username}@acme.example"})
        user.set_password(password)
        user.save()
        services.membership_set(tenant=tenant, user=user, role=role)

    for key in ApiKey.objects.filter(tenant=tenant, name=DEMO_KEY_NAME, revoked_at__isnull=True):
        services.api_key_revoke(key=key, actor="demo")

    credentials = DemoCredentials(tenant=tenant, admin_username=admin.username, admin_password=password)
    for kind, name, email in DEMO_PARTNERS:
        partner = tenant.partners.filter(name=name).first() or services.partner_create(
            tenant=tenant, kind=kind, name=name, contact_email=email, actor="demo"
        )
        _, full_key = services.api_key_create(tenant=tenant, partner=partner, name=DEMO_KEY_NAME, actor="demo")
        credentials.partner_keys.append((kind, name, full_key))
    _, credentials.admin_key = services.api_key_create(tenant=tenant, user=admin, name=DEMO_KEY_NAME, actor="demo")
    return credentials
