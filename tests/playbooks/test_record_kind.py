"""Which playbook record an alert's recommendation calls for: the alert's action decides, and a
transfer with nowhere to go gets no record (the alert itself says to consider a markdown)."""

from __future__ import annotations

import pytest

from core.alerts.models import Alert
from core.playbooks import records


@pytest.mark.parametrize(
    ("recommendation", "kind"),
    [
        ({"action": "markdown", "percent": 20}, "markdown"),
        ({"action": "clearance", "discount_percent": 45}, "clearance"),
        ({"action": "transfer", "to_warehouse": "W-S"}, "transfer"),
        ({"action": "redistribution", "to_warehouse": "W-S"}, "transfer"),
        ({"action": "transfer", "to_warehouse": None}, None),
        ({"action": "redistribution"}, None),
        ({"action": "emergency_rfq"}, None),
        ({"action": "risk_review"}, None),
        ({}, None),
    ],
)
def test_the_record_kind_follows_the_alerts_action(recommendation, kind):
    assert records._wanted(Alert(recommendation=recommendation)) == kind
