"""Running ``manage.py warnings_backtest`` as a test does: its stdout, the stored backtest beside it."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from tests.support.world import TenantWorld


def backtest_command(world: TenantWorld, *, day_from: str, day_to: str, **options: object) -> str:
    """What the command printed on stdout for the world's tenant (its progress on stderr is dropped)."""
    out = StringIO()
    call_command(
        "warnings_backtest",
        tenant=world.tenant.slug,
        day_from=day_from,
        day_to=day_to,
        stdout=out,
        stderr=StringIO(),
        **options,
    )
    return out.getvalue()
