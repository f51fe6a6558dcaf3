"""What really happened after a replayed alert, labelled from the ledger (docs/quality.md).

A rule's outcome follows its ``RuleSpec.direction``: the stock-out rules are right when the position
runs out within the lead time and review period after the alert; the overstock-like ones (overstock,
slow moving, obsolescence, season end, launch, decline) when the stock held at the alert is still
unsold at the rule's standard pace ``OVERSTOCK_WINDOW_DAYS`` later; expiry risk when the units it
said would expire were not sold by the earliest expiry. The compound rule warns of
a mix the ledger does not settle: its alerts are ``unlabelled``, kept out of precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from core.alerts.catalog import STOCK_OUT, TURNOVER_STANDARD_DAYS
from core.alerts.models import RuleCode
from core.alerts.rules import RULES
from core.quality.replay_days import ChunkLedger, cumulative_sums

SELLING_DAYS = 28  # a position "sells" on a day if it sold in the 28 days ending that day
# The stock-out rule's own defaults, for an alert whose inputs name no lead time or review period.
_STOCK_OUT_PARAMETERS = RULES[RuleCode.STOCK_OUT_RISK].parameters
DEFAULT_LEAD_TIME_DAYS = float(_STOCK_OUT_PARAMETERS["default_lead_time_days"].default)
DEFAULT_REVIEW_DAYS = float(_STOCK_OUT_PARAMETERS["review_period_days"].default)
OVERSTOCK_WINDOW_DAYS = 60
# Stock sent away other than by sales (transfers out, write-offs) that settles an overstock alert as averted.
AVERTED_OUTBOUND_SHARE = 0.25
FLAP_DAYS = 7

TRUE, FALSE, AVERTED, PENDING, UNLABELLED = "true", "false", "averted", "pending", "unlabelled"
OVERSTOCK_LIKE = frozenset({"overstock", "launch", "decline"})


def outcome_kind(rule: str) -> str | None:
    """``stock_out``, ``overstock`` or None (no outcome in the ledger) for a rule, from its direction."""
    direction = RULES[rule].direction
    if direction == STOCK_OUT:
        return STOCK_OUT
    if direction in OVERSTOCK_LIKE:
        return "overstock"
    return None


@dataclass(frozen=True)
class Label:
    outcome: str
    outcome_on: date | None
    lead_days: int | None
    averted_by: str = ""  # response (its kind) or receipt / outbound, for an averted alert


class Outcomes:
    """A chunk's stock-out days and the inputs of each alert's label, from its ledger arrays."""

    def __init__(self, ledger: ChunkLedger, responses: dict[int, list[tuple[date, str]]]) -> None:
        self.ledger = ledger
        sold_cumulative = ledger.cumulative["sold"]
        width = ledger.sold.shape[1]
        ends = np.arange(width) + 1
        selling = (sold_cumulative[:, ends] - sold_cumulative[:, np.maximum(ends - SELLING_DAYS, 0)]) > 0
        self.out = (ledger.on_hand <= 0) & selling  # [n, j]: stocked out on day j while selling
        inbound = ledger.cumulative["inbound"]
        # Units that left other than by sales each day: inbound - sold - net change.
        self.other_out = cumulative_sums(
            np.diff(inbound, axis=1) - ledger.sold - np.diff(ledger.cumulative["net"], axis=1)
        )
        self.received = cumulative_sums(ledger.received)
        self.responses = responses

    def episodes(self, n: int, day_from: date, day_to: date) -> list[tuple[date, date | None]]:
        """The position's stock-out episodes starting in the period: (first day, last day or None if
        still out on the last day of data)."""
        ledger, out = self.ledger, self.out[n]
        first, last = ledger.index(day_from), ledger.index(day_to)
        found = []
        starts = np.flatnonzero(out[first : last + 1] & ~out[first - 1 : last]) + first
        for j in starts.tolist():
            after = np.flatnonzero(~out[j:])
            end = None if after.size == 0 else ledger.start + timedelta(days=j + int(after[0]) - 1)
            found.append((ledger.start + timedelta(days=j), end))
        return found

    def label(
        self,
        n: int,
        *,
        position_id: int,
        rule: str,
        opened_on: date,
        inputs: dict,
        review_days: float,
        velocity_class: str,
    ) -> Label:
        kind = outcome_kind(rule)
        if kind == STOCK_OUT:
            return self._stock_out(n, position_id, opened_on, inputs, review_days)
        if kind == "overstock":
            return self._overstock(n, position_id, opened_on, inputs, velocity_class)
        return Label(UNLABELLED, None, None)

    def _response(self, position_id: int, day_from: date, day_to: date) -> tuple[date, str] | None:
        for day, kind in self.responses.get(position_id, ()):
            if day_from <= day <= day_to:
                return day, kind
        return None

    def _stock_out(self, n: int, position_id: int, opened_on: date, inputs: dict, review_days: float) -> Label:
        ledger = self.ledger
        lead = inputs.get("lead_time_days")
        window = int((DEFAULT_LEAD_TIME_DAYS if lead is None else lead) + (review_days or DEFAULT_REVIEW_DAYS))
        ends_on = opened_on + timedelta(days=window)
        if inputs.get("promotion_ends_on"):  # a promotion's shortfall shows by its end at the earliest
            ends_on = max(ends_on, date.fromisoformat(inputs["promotion_ends_on"]))
        first, last = ledger.index(opened_on), ledger.index(min(ends_on, ledger.end))
        hit = np.flatnonzero(self.out[n, first : last + 1])
        if hit.size:
            return Label(TRUE, opened_on + timedelta(days=int(hit[0])), int(hit[0]))
        if ends_on > ledger.end:
            return Label(PENDING, None, None)
        response = self._response(position_id, opened_on, ends_on)
        if response is not None:
            return Label(AVERTED, response[0], None, f"response: {response[1]}")
        came = np.flatnonzero(np.diff(self.received[n, first + 1 : last + 2]) > 0)
        # A receipt averts only what the stock held at the alert would not have covered: routine
        # replenishment of stock that outlasted the window's sales does not make a false alarm right.
        held = int(ledger.on_hand[n, first])
        sold = int(ledger.cumulative["sold"][n, last + 1] - ledger.cumulative["sold"][n, first + 1])
        if came.size and held <= sold:
            return Label(AVERTED, opened_on + timedelta(days=int(came[0]) + 1), None, "receipt or transfer in")
        return Label(FALSE, ends_on, None)

    def _overstock(self, n: int, position_id: int, opened_on: date, inputs: dict, velocity_class: str) -> Label:
        """Overstock-like rules: the stock held at opening still unsold at the standard pace 60 days on;
        expiry risk: the units it said would expire unsold by the earliest expiry not sold by then."""
        expiry = inputs.get("days_to_expiry") if "expiry_at_risk" in inputs else None
        days = max(int(expiry), 1) if expiry is not None else OVERSTOCK_WINDOW_DAYS
        ledger = self.ledger
        ends_on = opened_on + timedelta(days=days)
        first, last = ledger.index(opened_on), ledger.index(min(ends_on, ledger.end))
        response = self._response(position_id, opened_on, min(ends_on, ledger.end))
        if response is not None:
            return Label(AVERTED, response[0], None, f"response: {response[1]}")
        held = max(int(ledger.on_hand[n, first]), 0)
        sent = int(self.other_out[n, last + 1] - self.other_out[n, first + 1])
        if held > 0 and sent >= AVERTED_OUTBOUND_SHARE * held:
            return Label(AVERTED, None, None, "stock sent out other than by sales")
        if ends_on > ledger.end:
            return Label(PENDING, None, None)
        sold = int(ledger.cumulative["sold"][n, last + 1] - ledger.cumulative["sold"][n, first + 1])
        if expiry is not None:
            # Right if sales by the expiry day did not also clear the units at risk on top of what the
            # 28-day rate sells by then: some of them expired.
            unsold = sold < float(inputs["ads_28"]) * days + float(inputs["expiry_at_risk"])
        else:
            standard = inputs.get("standard") or TURNOVER_STANDARD_DAYS.get(
                velocity_class, TURNOVER_STANDARD_DAYS["long_tail"]
            )
            # Still unsold: the window's sales would take longer than the standard to sell what was held.
            unsold = held > 0 and sold * float(standard) < held * OVERSTOCK_WINDOW_DAYS
        return Label(TRUE if unsold else FALSE, ends_on, None)
