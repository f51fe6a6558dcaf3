"""Who is calling, within one tenant: a staff member with a role, or a partner organization."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

from tenants.models import ApiKey, Partner, Tenant


@dataclass(frozen=True)
class Principal:
    tenant: Tenant
    user: AbstractBaseUser | None = None
    role: str | None = None
    partner: Partner | None = None
    api_key: ApiKey | None = None

    @property
    def is_staff_member(self) -> bool:
        return self.role is not None

    @property
    def access(self) -> str:
        """The token that per-method permissions are declared in: a role or a partner kind."""
        if self.role is not None:
            return self.role
        assert self.partner is not None
        return self.partner.kind

    def describe(self) -> str:
        """How the audit log names this principal."""
        if self.partner is not None:
            return f"partner:{self.partner.id}" + (f" key:{self.api_key.prefix}" if self.api_key else "")
        via = f" key:{self.api_key.prefix}" if self.api_key else ""
        return f"user:{self.user.get_username() if self.user else '?'}{via}"


SYSTEM_ACTOR = "system"


def actor_name(actor: Principal | str) -> str:
    """How records name who acted: a principal's description, or a name such as ``system``."""
    return actor if isinstance(actor, str) else actor.describe()
