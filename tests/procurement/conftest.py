"""The procurement tests' shortage (tests.support.procurement) and the RFQ it opens."""

from __future__ import annotations

import pytest

from core.procurement.models import Rfq
from tests.support.calls import evaluate
from tests.support.procurement import Shortage, backup_suppliers, respond, short_stock


@pytest.fixture
def shortage(shop) -> Shortage:
    """The shop with S at W short (not yet evaluated) and its suppliers on file."""
    suppliers = backup_suppliers(shop)
    short_stock(shop)
    return Shortage(world=shop, suppliers=suppliers)


@pytest.fixture
def opened(shortage: Shortage) -> Shortage:
    """The shortage evaluated and its RFQ opened (its id in ``rfq_id``)."""
    evaluate(shortage.world)
    respond(shortage.world)
    shortage.rfq_id = str(Rfq.objects.get(tenant=shortage.world.tenant).pk)
    return shortage
