"""What each audience may not find in an answer or a webhook payload, and the scan that looks for it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations

from tests.support.figured import RIVAL_LEAD_TIME, Figured

# Which positions' quantities each audience may not see (labels of tests/support/figured.py).
HIDDEN = {
    "supplier": ("E", "B", "W"),
    "distributor:exact": (),
    "distributor:bands": ("E", "B", "W"),
    "distributor:mixed": ("B", "W"),  # WH-B as bands; WH-E with numbers
    "erp": (),
}
# Keys that carry the figures behind an alert or a reading, or the tenant's own words about them.
FIGURE_KEYS = {
    "inputs",
    "thresholds",
    "deviation",
    "details",
    "safety_stock",
    "safety_stock_cover",
    "safety_stock_service",
    "reorder_point",
    "reorder_point_cover",
    "reorder_point_service",
    "ads_7",
    "ads_28",
    "ads_90",
    "demand_sigma_28",
    "days_of_cover",
    "turnover_days",
    "turnover_rate",
    "weighted_age_days",
    "average_on_hand_90",
    "longest_lead_time_days",
    "lead_time_volatility_days",
    "order_up_to",
    "basis",
    "suppliers",
    "value_at_cost",
    "dismissed_reason",
    "dismissed_note",
}
# Values that are identifiers, references or page links: digits in them are not figures.
OPAQUE = re.compile(r"^(id|.*_id|reference|webhook_id|prefix|next|previous|secret|url|purchase_order)$")


def _number(value: int) -> re.Pattern:
    shown = "|".join(re.escape(text) for text in {str(value), f"{value:,}"})
    return re.compile(rf"(?<![\w.,])(?:{shown})(?![\w]|,\d)")


def hidden_figures(figured: Figured, audience: str) -> set[int]:
    """The quantities the audience may not see, alone and summed with any other position's (a
    rollup over a SKU or a warehouse adds them up); and the primary supplier's lead time."""
    hidden = HIDDEN[audience]
    numbers = {RIVAL_LEAD_TIME} if audience != "erp" else set()
    figures = {label: figured.figures(label) for label in "EBW"}
    for size in (1, 2, 3):
        for group in combinations("EBW", size):
            if not set(group) & set(hidden):
                continue
            for name in ("on_hand", "available", "in_transit", "reserved"):
                numbers.add(sum(figures[label][name] for label in group))
    return {n for n in numbers if n >= 100}


def staff_texts(figured: Figured) -> set[str]:
    texts = set()
    for alert in figured.alerts.values():
        alert.refresh_from_db()
        texts.add(alert.explanation)
        if alert.recommendation.get("summary"):
            texts.add(alert.recommendation["summary"])
    return texts


def _walk(value: object, key: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        for name, inner in value.items():
            yield name, inner
            yield from _walk(inner, name)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner, key)
    else:
        yield key, value


@dataclass
class Scan:
    numbers: set[int]
    texts: set[str]
    names: list[str]
    figure_keys: set[str]

    def leaks(self, body: object) -> list[str]:
        found = []
        patterns = [(n, _number(n)) for n in self.numbers]
        for key, value in _walk(body):
            if isinstance(value, dict | list):
                if key in self.figure_keys:
                    found.append(f"key {key!r}")
                continue
            if key in self.figure_keys:
                found.append(f"key {key!r}")
            if OPAQUE.match(key):
                continue
            if isinstance(value, bool) or value is None:
                continue
            if isinstance(value, int | float) and value in self.numbers:
                found.append(f"{key}={value}")
            if isinstance(value, str):
                found += [f"{key} names {n}: {value[:120]!r}" for n, pattern in patterns if pattern.search(value)]
                found += [f"{key} is the staff text {value[:80]!r}" for text in self.texts if text and text in value]
                found += [f"{key} names staff {name!r}" for name in self.names if name in value]
        return sorted(set(found))


def scan_for(figured: Figured, audience: str) -> Scan:
    partner_view = audience != "erp"
    return Scan(
        numbers=hidden_figures(figured, audience),
        texts=staff_texts(figured) if partner_view else set(),
        names=figured.staff_names,
        figure_keys=FIGURE_KEYS if partner_view else set(),
    )
