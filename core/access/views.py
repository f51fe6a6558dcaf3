"""Renderings through the registry: what an audience is shown of a position, a reading, an alert,
its timeline, a refused transfer and a webhook event, built from plain values.

Partners get words written for them (the action, the quantity, the grade, the due day, the band),
not the staff text with its numbers masked: the staff explanation is never the base of theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from core.access.registry import (
    ACTOR_KEYS,
    REGISTRY_KINDS,
    STAFF,
    Capabilities,
    capabilities,
    event_keys,
    levels_of,
)

QUANTITY_FIELDS = ("on_hand", "available", "in_transit")

# The partner shapes, field by field; the API's partner serializers list exactly these.
PARTNER_READING_FIELDS = (
    "position_id",
    "sku",
    "warehouse",
    "region",
    "category",
    "as_of",
    "band",
    "exact",
    *QUANTITY_FIELDS,
    "health_index",
    "stockout_risk",
    "overstock",
    "changed_at",
)
PARTNER_ALERT_FIELDS = (
    "id",
    "rule",
    "direction",
    "grade",
    "peak_grade",
    "status",
    "active",
    "position_id",
    "sku",
    "warehouse",
    "region",
    "category",
    "band",
    "explanation",
    "recommendation",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "created_at",
    "updated_at",
)
PARTNER_RECOMMENDATION_FIELDS = ("action", "quantity", "due_on")
PARTNER_EVENT_FIELDS = ("kind", "from_grade", "to_grade", "actor", "created_at")

# --- Positions and readings -----------------------------------------------------------------------


def stock_quantities(values: Mapping, caps: Capabilities) -> dict:
    """``exact`` and the position's quantities in ``values`` as the audience sees them: the figures,
    or null where it sees bands only."""
    return {"exact": caps.quantities} | {
        name: values[name] if caps.quantities else None for name in QUANTITY_FIELDS if name in values
    }


def partner_reading(values: Mapping, caps: Capabilities) -> dict | None:
    """A reading in the partner shape (``values`` keyed by its field names); None: nothing to see."""
    if caps.view != "partner":
        return None
    shown = {name: values[name] for name in PARTNER_READING_FIELDS if name in values}
    shown.update(stock_quantities(values, caps))
    shown["band"] = values["band"] if caps.band else None
    return {name: shown[name] for name in PARTNER_READING_FIELDS}


# --- Alerts ---------------------------------------------------------------------------------------

_SITUATION = {
    "stock_out": "Stock of {sku} at {warehouse} is expected to run short",
    "overstock": "{sku} at {warehouse} holds more stock than it sells",
    "launch": "{sku} at {warehouse} is selling below what its launch needs",
    "decline": "Sales of {sku} at {warehouse} have fallen week after week",
    "compound": "Demand, supply and competition are all moving against {sku} at {warehouse}",
}
# Per action: the words with a quantity ({units}: "120 units"), and without one.
_ACTION = {
    "review": ("{units} are under review against demand and open orders", "demand and open orders are under review"),
    "replenishment_order": ("{units} are being ordered", "a replenishment order is being placed"),
    "emergency_rfq": ("{units} are being sourced", "more is being sourced from backup suppliers"),
    "markdown": ("a markdown is planned to sell {units}", "a markdown is planned"),
    "transfer": ("{units} are to move to where it sells", "a transfer to where it sells is planned"),
    "redistribution": ("{units} are to be redistributed", "a redistribution is planned"),
    "clearance": ("a clearance of {units} is planned", "a clearance is planned"),
    "risk_review": ("a cross-functional review is under way", "a cross-functional review is under way"),
}
_BAND = {"available": "stock there is available", "low": "stock there is low", "out": "it is out of stock there"}


def partner_recommendation(advice: Mapping | None, caps: Capabilities, *, due: date | None) -> dict:
    """The action, its quantity where the audience may see it, and the due day where it may."""
    advice = advice or {}
    action = advice.get("action")
    quantity = advice.get("quantity") if action in caps.quantity_of else None
    return {
        "action": action,
        "quantity": quantity,
        "due_on": due.isoformat() if due is not None and caps.due_day else None,
    }


def partner_explanation(
    *, direction: str, grade: str, sku: str, warehouse: str, recommendation: Mapping, band: str | None
) -> str:
    """Why the alert is there, for a partner: the situation, the action with its quantity and due
    day (each only where ``recommendation`` shows it), the band, the grade. No other figure."""
    situation = _SITUATION.get(direction, "{sku} at {warehouse} needs attention").format(sku=sku, warehouse=warehouse)
    with_units, without = _ACTION.get(recommendation["action"], ("", "the brand is looking into it"))
    quantity = recommendation["quantity"]
    action = with_units.format(units=f"{quantity} units") if quantity is not None and with_units else without
    due = recommendation["due_on"]
    if due is not None:
        day = date.fromisoformat(due)
        action += f" by {day.day} {day:%B}"
    text = f"{situation}; {action}."
    if band is not None:
        text += f" For now {_BAND[band]}."
    return f"{text} Graded {grade}."


def partner_alert(values: Mapping, caps: Capabilities, *, due: date | None = None) -> dict | None:
    """An alert in the partner shape from its plain ``values`` (keyed by the partner field names,
    ``recommendation`` the stored one, ``band`` the position's band now); ``due`` the projected
    stock-out day of a stock-out alert. None: nothing to see."""
    if caps.view != "partner":
        return None
    recommendation = partner_recommendation(values["recommendation"], caps, due=due)
    band = values["band"] if caps.band else None
    shown = {name: values[name] for name in PARTNER_ALERT_FIELDS if name in values}
    shown.update(
        band=band,
        recommendation=recommendation,
        explanation=partner_explanation(
            direction=values["direction"],
            grade=values["grade"],
            sku=values["sku"],
            warehouse=values["warehouse"],
            recommendation=recommendation,
            band=band,
        ),
    )
    return {name: shown[name] for name in PARTNER_ALERT_FIELDS}


# --- Who acted ------------------------------------------------------------------------------------


def actor_word(actor: str, caps: Capabilities, viewer: object = None) -> str:
    """How an audience is told who acted: the recorded name where it may see names, else a role:
    ``staff`` for a person of the tenant, ``you`` for the viewing partner (``viewer``, its id),
    ``partner`` for another, ``system`` for the engine, the policy and the other automatic actors."""
    if caps.actor_names:
        return actor
    if actor.startswith("user:"):
        return "staff"
    if actor.startswith("partner:"):
        return "you" if viewer is not None and actor.split()[0] == f"partner:{viewer}" else "partner"
    return "system"


def partner_event(values: Mapping, caps: Capabilities, viewer: object = None) -> dict:
    """A timeline entry in the partner shape: what happened, the grades, who as a role; no notes or figures."""
    shown = {name: values[name] for name in PARTNER_EVENT_FIELDS}
    shown["actor"] = actor_word(values["actor"], caps, viewer)
    return shown


# --- Refusals -------------------------------------------------------------------------------------


def spare_refusal(
    caps: Capabilities,
    *,
    source: str,
    sku: str,
    quantity: int,
    spare_units: int,
    available: int,
    safety_stock: float,
    method: str,
    band: str | None,
) -> str:
    """Why a transfer of ``quantity`` out of ``source`` is refused, in what the audience may see."""
    if caps.refusal == "figures":
        return (
            f"{source} can spare {spare_units} units of {sku} now: available {available} less safety stock "
            f"{safety_stock:g} ({method} method)."
        )
    if caps.refusal == "units":
        return f"{source} can spare {spare_units} units of {sku} now; ask for at most that."
    if caps.refusal == "band" and band is not None:
        return f"{source} cannot spare {quantity} units of {sku} now; {_BAND[band]}."
    return f"{source} cannot spare {quantity} units of {sku} now."


# --- Webhook events -------------------------------------------------------------------------------


def event_payloads(event_type: str, data: Mapping, *, kinds: Iterable[str] | None = None) -> dict[str, dict]:
    """The payload each partner kind's endpoints get of an event, by kind (``kinds``: only these);
    a kind not in the answer hears nothing of it. A kind with grant levels gets what all its levels
    may see, since the event reaches every endpoint of the kind."""
    known = REGISTRY_KINDS - {STAFF}
    payloads = {}
    for kind in sorted(known if kinds is None else known & set(kinds)):
        keys = event_keys(kind, event_type)
        if not keys:
            continue
        named = all(capabilities(kind, level).actor_names for level in levels_of(kind))
        caps = capabilities(kind, levels_of(kind)[0]) if named else _UNNAMED
        payloads[kind] = {
            key: actor_word(value, caps) if key in ACTOR_KEYS else value for key, value in data.items() if key in keys
        }
    return payloads


_UNNAMED = Capabilities(audience="unnamed")
