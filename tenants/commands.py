"""What management commands share about tenants: the ``--tenant`` option most of them take."""

from django.core.management.base import CommandError, CommandParser
from django.db.models import QuerySet

from tenants.models import Tenant


def tenant_option_add(parser: CommandParser) -> None:
    parser.add_argument("--tenant", help="A tenant slug; all tenants when left out.")


def tenants_chosen(slug: str | None) -> QuerySet[Tenant]:
    """The tenant ``--tenant`` names, or every tenant without it, by slug; an unknown slug stops the
    command, naming the tenants there are."""
    tenants = Tenant.objects.order_by("slug")
    if not slug:
        return tenants
    chosen = tenants.filter(slug=slug)
    if not chosen.exists():
        known = ", ".join(tenants.values_list("slug", flat=True)[:20]) or "none yet"
        raise CommandError(f"No tenant '{slug}'. Known tenants: {known}.")
    return chosen
