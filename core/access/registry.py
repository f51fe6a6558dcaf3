"""The one table of what each partner kind may do and see: its scope, what it may do, and what it
sees at each grant level; staff see everything of their tenant, by role.

| kind | scope | may do |
| --- | --- | --- |
| erp | the whole tenant | push inventory (and ship and receive transfers), read inventory, read alerts and forecasts, read the forecast backtest, make, read and change promotions, manage its webhooks |
| supplier | the SKUs it supplies | supply (its offers), answer RFQs, read alerts and forecasts, manage its webhooks |
| distributor | the warehouses granted to it, at a grant level | read shared stock, file transfers, read alerts and forecasts, read the promotions of its warehouses, manage its webhooks |

| kind / grant | stock quantities | reading's other figures | alert | who acted | transfer refusal | webhook events |
| --- | --- | --- | --- | --- | --- | --- |
| staff | yes | yes | everything | by name | with the figures | everything |
| erp | yes | yes | everything | as a role | with the figures | everything, who acted as a role |
| distributor, exact | yes | no | its own words: action, quantity, grade, due day | as a role | the units it can spare | alerts without deviation or reason; its transfers |
| distributor, bands | no: a band | no | its own words: action, grade, band | as a role | the band | as exact |
| supplier | no: a band | no | its own words: sourcing quantity, grade, due day | as a role | (files none) | alerts as distributors; its RFQs |

The ERP pushes the tenant's stock and sales, so it sees what staff see of them; like every partner
it sees who acted as a role (``staff``, ``system``, ``you``), never a user name or a key. A kind or
a grant level this table does not know sees nothing (``capabilities`` answers ``NOTHING``), may do
nothing (no view grants it a method) and is scoped to nothing.
"""  # noqa: E501 - a table reads best unwrapped

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from django.db.models import BooleanField, Case, CharField, Expression, F, OuterRef, Q, Value, When

from core.inventory.grants import GRANT_MODES, WAREHOUSE_QUANTITIES, granted
from core.inventory.models import Position, Warehouse
from tenants.models import Partner, PartnerKind
from tenants.principals import Principal

STAFF = "staff"  # the audience of every staff role
EXACT, BANDS = GRANT_MODES  # a distributor's grant of a warehouse: with numbers, or as bands
BAND_WORDS = ("available", "low", "out")


class _Every:
    """Every member: ``x in EVERY`` holds for any x (an empty set cannot mean "all" by mistake)."""

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "EVERY"


EVERY = _Every()
Keys = frozenset[str] | _Every

# What a supplier is told the quantity of: what is being sourced, which is its business.
SOURCING_ACTIONS = frozenset({"review", "replenishment_order", "emergency_rfq"})

ALERT_EVENT_TYPES = ("alert.opened", "alert.escalated", "alert.deescalated", "alert.resolved", "alert.dismissed")
TRANSFER_EVENT_TYPES = (
    "transfer.requested",
    "transfer.approved",
    "transfer.rejected",
    "transfer.shipped",
    "transfer.received",
    "transfer.cancelled",
)
# What a partner endpoint hears of an alert: which one, its grade and the action; not the deviation
# (the figures behind it) nor a dismissal's reason and note (the staff's own judgement and words).
ALERT_EVENT_KEYS = frozenset(
    {"alert_id", "rule", "grade", "previous_grade", "position_id", "sku", "warehouse", "action", "by"}
)
# Payload keys that name who acted: worded as a role for audiences without ``actor_names``.
ACTOR_KEYS = frozenset({"by"})


@dataclass(frozen=True)
class Capabilities:
    """What one audience sees. The default of every field is nothing."""

    audience: str
    # Anything at all: a row of an audience that does not see is left out of every answer.
    sees: bool = False
    # A position's on_hand, available and in_transit, and the units a source can spare.
    quantities: bool = False
    # The rest of a reading (sales rates, cover, turnover, ages, expiry, lead times, safety stock,
    # reorder points, the series behind them) and the sums of a rollup beyond the quantities.
    indicators: bool = False
    # An alert's inputs, thresholds, deviation, the staff explanation and the recommendation's figures.
    alert_figures: bool = False
    # The recommendation actions whose quantity is shown (EVERY, or a set of action names).
    quantity_of: Keys = frozenset()
    # The projected stock-out day of a stock-out alert.
    due_day: bool = False
    # Stock as a band word: available, low, out.
    band: bool = False
    # Who acted by user name and key prefix; otherwise as a role.
    actor_names: bool = False
    # What a refused transfer request says: "figures", "units" (spare units), "band"; "" only that it cannot.
    refusal: str = ""
    # Webhook event type -> the payload keys its endpoints get (EVERY: every type, every key).
    events: Mapping[str, Keys] | _Every = field(default_factory=dict)

    @property
    def view(self) -> str:
        """The shapes its answers take: the staff ones, which carry the figures behind readings and
        alerts; the partner ones, narrower shapes of their own; or none."""
        if not self.sees:
            return ""
        return "staff" if self.indicators and self.alert_figures else "partner"

    def hears(self, event_type: str) -> Keys:
        """The payload keys of ``event_type`` this audience gets; empty: it does not hear of it."""
        if isinstance(self.events, _Every):
            return EVERY
        return self.events.get(event_type, frozenset())


_PARTNER_EVENTS = dict.fromkeys(ALERT_EVENT_TYPES, ALERT_EVENT_KEYS) | {"webhook.ping": EVERY}

_STAFF = Capabilities(
    audience=STAFF,
    sees=True,
    quantities=True,
    indicators=True,
    alert_figures=True,
    quantity_of=EVERY,
    due_day=True,
    band=True,
    actor_names=True,
    refusal="figures",
    events=EVERY,
)


class Can(StrEnum):
    """What a partner kind may do; a kind does only what its row in ``KINDS`` lists."""

    PUSH_INVENTORY = "push_inventory"  # ledger lines, signals and master data; ship and receive transfers
    READ_INVENTORY = "read_inventory"  # the tenant's master data, stock and transfers
    READ_SHARED_STOCK = "read_shared_stock"  # the shared stock view of its scope, its own transfers
    FILE_TRANSFERS = "file_transfers"  # file transfer requests and cancel its own
    READ_ALERTS = "read_alerts"  # alerts and indicator readings of its scope
    READ_FORECASTS = "read_forecasts"  # stored forecasts of its scope, figures where quantities are shown
    SUPPLY = "supply"  # be named on supplier offers (and so invited to RFQs); read its own offers
    ANSWER_RFQS = "answer_rfqs"  # the RFQs it is invited to, its quotes and purchase orders
    MANAGE_WEBHOOKS = "manage_webhooks"  # its own webhook endpoints and their deliveries
    READ_FORECAST_ACCURACY = "read_forecast_accuracy"  # the tenant-wide forecast backtest report
    MANAGE_PROMOTIONS = "manage_promotions"  # make, read and change its tenant's promotions (not delete)
    READ_PROMOTIONS = "read_promotions"  # the promotions touching its scope's warehouses


class Scope(StrEnum):
    """Which objects of its tenant a partner kind's rows are scoped to."""

    NONE = "none"  # nothing
    TENANT = "tenant"  # the whole tenant, as staff
    SKUS_SUPPLIED = "skus_supplied"  # the SKUs it has supplier offers for
    WAREHOUSES_GRANTED = "warehouses_granted"  # the warehouses granted to its group, at a grant level


@dataclass(frozen=True)
class PartnerKindRow:
    """One partner kind: what it may do, how its rows are scoped, and what it sees at each grant level
    (``None``: a kind without levels). The default of every field is nothing."""

    may: frozenset[Can] = frozenset()
    scope: Scope = Scope.NONE
    sees: Mapping[str | None, Capabilities] = field(default_factory=dict)


_EVERY_PARTNER = frozenset({Can.READ_ALERTS, Can.READ_FORECASTS, Can.MANAGE_WEBHOOKS})  # what each kind below may do

# Adding a partner kind: its value in ``PartnerKind`` and its row here; views, selectors, the relay
# and the tests' world follow from it.
KINDS: dict[str, PartnerKindRow] = {
    # The ERP pushes the tenant's stock and sales: it sees what staff see, who acted as a role.
    PartnerKind.ERP: PartnerKindRow(
        may=_EVERY_PARTNER
        | {Can.PUSH_INVENTORY, Can.READ_INVENTORY, Can.READ_FORECAST_ACCURACY, Can.MANAGE_PROMOTIONS},
        scope=Scope.TENANT,
        sees={None: replace(_STAFF, audience=PartnerKind.ERP, actor_names=False)},
    ),
    PartnerKind.SUPPLIER: PartnerKindRow(
        may=_EVERY_PARTNER | {Can.SUPPLY, Can.ANSWER_RFQS},
        scope=Scope.SKUS_SUPPLIED,
        sees={
            None: Capabilities(
                audience=PartnerKind.SUPPLIER,
                sees=True,
                quantity_of=SOURCING_ACTIONS,
                due_day=True,
                band=True,
                # RFQ events are addressed to the supplier they are about and carry its own terms.
                events=_PARTNER_EVENTS | dict.fromkeys(("rfq.invited", "rfq.awarded", "rfq.closed"), EVERY),
            )
        },
    ),
    PartnerKind.DISTRIBUTOR: PartnerKindRow(
        may=_EVERY_PARTNER | {Can.READ_SHARED_STOCK, Can.FILE_TRANSFERS, Can.READ_PROMOTIONS},
        scope=Scope.WAREHOUSES_GRANTED,
        sees={
            EXACT: Capabilities(
                audience=f"{PartnerKind.DISTRIBUTOR}:{EXACT}",
                sees=True,
                quantities=True,
                quantity_of=EVERY,
                due_day=True,
                band=True,
                refusal="units",
                # Transfer events are addressed to the distributor that asked and carry its own request.
                events=_PARTNER_EVENTS | dict.fromkeys(TRANSFER_EVENT_TYPES, EVERY),
            ),
            BANDS: Capabilities(
                audience=f"{PartnerKind.DISTRIBUTOR}:{BANDS}",
                sees=True,
                band=True,
                refusal="band",
                events=_PARTNER_EVENTS | dict.fromkeys(TRANSFER_EVENT_TYPES, EVERY),
            ),
        },
    ),
}
NO_ROW = PartnerKindRow()

# What each audience sees, by (kind, grant level): staff's row and every partner kind's levels.
REGISTRY: dict[tuple[str, str | None], Capabilities] = {(STAFF, None): _STAFF} | {
    (kind, level): caps for kind, row in KINDS.items() for level, caps in row.sees.items()
}
NOTHING = Capabilities(audience="nothing")
REGISTRY_KINDS = frozenset(kind for kind, _ in REGISTRY)

# How each grant level of a scope that has levels reads in SQL, for a warehouse column of the outer query.
_LEVEL_SQL = {
    (Scope.WAREHOUSES_GRANTED, EXACT): lambda partner, warehouse: granted(partner, warehouse, WAREHOUSE_QUANTITIES),
    (Scope.WAREHOUSES_GRANTED, BANDS): lambda partner, warehouse: ~granted(partner, warehouse, WAREHOUSE_QUANTITIES),
}


def row_of(kind: str) -> PartnerKindRow:
    """A partner kind's row; a kind the table does not know has ``NO_ROW``: it may do nothing."""
    return KINDS.get(kind, NO_ROW)


def partner_kinds() -> tuple[PartnerKind, ...]:
    """Every partner kind the table knows, in the enum's order."""
    return tuple(kind for kind in PartnerKind if kind in KINDS)


def may(principal: Principal, can: Can) -> bool:
    """Whether the principal is a partner whose kind may ``can`` (staff: False; they act by role)."""
    return principal.partner is not None and can in row_of(principal.partner.kind).may


def scope_of(kind: str) -> Scope:
    return row_of(kind).scope


def _level_sql(kind: str, level: str | None) -> Callable[[Partner, OuterRef], Expression] | None:
    """How ``level`` of ``kind`` reads in SQL: its scope's; None for a level no scope has."""
    return _LEVEL_SQL.get((scope_of(kind), level))


def capabilities(kind: str, level: str | None = None) -> Capabilities:
    """What an audience sees: ``kind`` (``staff`` or a partner kind) at a grant ``level``."""
    return REGISTRY.get((kind, level), NOTHING)


def kind_of(principal: Principal) -> str:
    if principal.is_staff_member:
        return STAFF
    return principal.partner.kind if principal.partner is not None else ""


def levels_of(kind: str) -> list[str | None]:
    """The grant levels the table knows for ``kind`` ([None] for a kind without levels)."""
    return [level for known, level in REGISTRY if known == kind]


def view_of(principal: Principal) -> str:
    """The shapes a principal's answers take, the same for every grant level of its kind; '' for none."""
    views = {capabilities(kind_of(principal), level).view for level in levels_of(kind_of(principal))}
    return views.pop() if len(views) == 1 else ""


def of(principal: Principal, level: str | None = None) -> Capabilities:
    """What ``principal`` sees of an object at grant ``level`` (a row's ``grant`` from ``grant_level``)."""
    return capabilities(kind_of(principal), level)


def grant_level(principal: Principal, warehouse: str = "warehouse_id") -> Expression:
    """SQL: the principal's grant level of each row's warehouse (``warehouse``, a column of the rows);
    NULL for a kind without levels, and for a row no level of the table matches (it then sees nothing)."""
    kind = kind_of(principal)
    whens = [
        When(sql(principal.partner, OuterRef(warehouse)), then=Value(level))
        for level in levels_of(kind)
        if (sql := _level_sql(kind, level)) is not None
    ]
    if not whens:
        return Value(None, output_field=CharField())
    return Case(*whens, default=Value(None), output_field=CharField())


def shown(principal: Principal, what: str, warehouse: str = "warehouse_id") -> Expression:
    """SQL: whether each row's ``what`` (a boolean field of Capabilities, e.g. ``quantities``) is
    shown to the principal, by the grant level of the row's warehouse."""
    kind = kind_of(principal)
    levels = levels_of(kind)
    if levels in ([], [None]):
        return Value(getattr(capabilities(kind), what), output_field=BooleanField())
    whens = [
        When(sql(principal.partner, OuterRef(warehouse)), then=Value(True))
        for level in levels
        if (sql := _level_sql(kind, level)) is not None and getattr(capabilities(kind, level), what)
    ]
    if not whens:
        return Value(False, output_field=BooleanField())
    return Case(*whens, default=Value(False), output_field=BooleanField())


def level_of(principal: Principal, *, warehouse_id: object) -> str | None:
    """The principal's grant level of one warehouse (None for a kind without levels)."""
    if levels_of(kind_of(principal)) in ([], [None]):
        return None
    level = grant_level(principal, "pk")
    return Warehouse.objects.filter(pk=warehouse_id).annotate(level=level).values_list("level", flat=True).first()


def stock_band(*, position_id: object, low_cover_days: int) -> str | None:
    """One position's stock band now, as ``band_sql`` tells it in lists."""
    band = band_sql(available="available", cover="reading__days_of_cover", low_cover_days=low_cover_days)
    positions = Position.objects.filter(pk=position_id).annotate(available=F("on_hand") - F("reserved"), band=band)
    return positions.values_list("band", flat=True).first()


def band_sql(*, available: str, cover: str, low_cover_days: int) -> Case:
    """SQL: a position's stock band from its ``available`` and ``cover`` (days) columns: out when
    nothing is available, low under ``low_cover_days`` of cover, else available."""
    return Case(
        When(Q(**{f"{available}__lte": 0}), then=Value("out")),
        When(Q(**{f"{cover}__lt": low_cover_days}), then=Value("low")),
        default=Value("available"),
        output_field=CharField(),
    )


def event_keys(kind: str, event_type: str) -> Keys:
    """The payload keys of ``event_type`` every grant level of ``kind`` may hear (empty: none)."""
    levels = levels_of(kind)
    if not levels:
        return frozenset()
    heard = [capabilities(kind, level).hears(event_type) for level in levels]
    if any(not keys for keys in heard):
        return frozenset()
    finite = [keys for keys in heard if not isinstance(keys, _Every)]
    return frozenset.intersection(*finite) if finite else EVERY
