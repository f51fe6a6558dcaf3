"""The alert inbox: the API's ``alerts/`` filters, worst first or newest first, a page at a time;
bulk acknowledge, snooze or dismiss; new alerts appear while the page is open (htmx polls
``inbox-rows``).

Lists go through ``core.alerts.selectors.alert_list`` filtered by the API's own ``AlertFilter``, and
actions call the services the API's action endpoints call, so the console and the API cannot
disagree. A bulk submission is all or nothing: every alert is checked and changed in one
transaction, and the first refusal undoes the rest and says which alert and why.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from api.alerts.views import AlertFilter
from console.pages import ACTORS, READERS, ConsolePage
from core.alerts import selectors, services
from core.alerts.models import GRADE_RANK, Alert, AlertStatus, DismissReason, Grade, RuleCode
from core.alerts.services import MAX_SNOOZE
from core.exceptions import Conflict
from core.inventory import selectors as inventory

PAGE_SIZE = 50
# At most this many alerts change in one submission: a page's worth, and then some.
MAX_BULK = 500
POLL_SECONDS = 5
# The note's checks as the alert page's form makes them (its length, no NUL, which PostgreSQL refuses).
NOTE = forms.CharField(max_length=500, required=False)
FILTERS = tuple(AlertFilter.base_filters)
# The inbox with no filter at all: what someone has to act on now (open or acknowledged, held by the
# engine, not snoozed): the overview's live alerts less the snoozed ones.
DEFAULT_FILTERS = "active=true&status=open&status=acknowledged&snoozed=false"
SORTS = {"worst": "Worst first", "newest": "Newest first"}
ACTIONS = {"acknowledge": "Acknowledged", "snooze": "Snoozed", "dismiss": "Dismissed"}
_GRADE_ORDER = Case(
    *(When(grade=grade, then=Value(rank)) for grade, rank in GRADE_RANK.items()),
    default=Value(0),
    output_field=IntegerField(),
)
_ROW_FIELDS = (
    "id",
    "rule",
    "grade",
    "status",
    "active",
    "deviation",
    "explanation",
    "opened_at",
    "created_at",
    "snoozed_until",
    "dismissed_reason",
    "sku__code",
    "sku__name",
    "sku__category__code",
    "warehouse__code",
    "warehouse__region",
)


class InboxRefused(Exception):
    """A bulk submission refused before or while acting: ``message`` says why, ``status`` is the
    answer's (400 for bad input, 409 for an alert whose status does not allow the action)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def inbox_params(query: QueryDict) -> QueryDict:
    """The filters, sort and page of a query, empty values left out (a form's blank field means no
    filter, where the API refuses an empty parameter); none of the filters: the default inbox."""
    kept = QueryDict(mutable=True)
    for name in (*FILTERS, "sort", "page"):
        values = [value for value in query.getlist(name) if value.strip()]
        if values:
            kept.setlist(name, values)
    if "all" in query:
        kept["all"] = "1"
    elif not any(name in kept for name in FILTERS):
        defaults = QueryDict(DEFAULT_FILTERS)
        for name in defaults:
            kept.setlist(name, defaults.getlist(name))
    return kept


class InboxView(ConsolePage):
    """What the inbox page, its rows and its bulk form share: the filtered alerts of the tenant."""

    section = "inbox"
    # Everyone reads; planners and admins see the checkboxes and act (only the bulk page posts).
    access = {"GET": READERS, "POST": ACTORS}

    def filtered(self, params: QueryDict) -> tuple[QuerySet[Alert] | None, list[str]]:
        """The tenant's alerts filtered as ``alerts/?<params>`` filters them, or the filter's errors."""
        found = AlertFilter(data=params, queryset=selectors.alert_list(principal=self.principal))
        if not found.is_valid():
            return None, [f"{name}: {' '.join(errors)}" for name, errors in found.errors.items()]
        return found.qs, []

    def inbox(
        self, request: HttpRequest, params: QueryDict, *, status: int = 200, selected: frozenset = frozenset()
    ) -> HttpResponse:
        """The inbox page for ``params``; ``status`` and ``selected`` (ids kept checked) after a refused form."""
        loaded = timezone.now()
        alerts, errors = self.filtered(params)
        for error in errors:
            messages.error(request, f"Filter refused, {error}")
        sort = params.get("sort") if params.get("sort") in SORTS else "worst"
        page = None
        rows: list[Alert] = []
        if alerts is not None:
            # The page's ids are sorted on the alerts table alone; only those 50 are joined to their
            # SKU, category and warehouse (joining first sorts every match's joined row: 2 x slower).
            page = Paginator(alerts.order_by(*_ordering(sort)).values_list("id", flat=True), PAGE_SIZE).get_page(
                params.get("page")
            )
            ids = list(page.object_list)
            # By id within the tenant only: the filters matched these already, and the planner reads
            # 50 ids through the primary key rather than the filters' index.
            chosen = selectors.alert_list(principal=self.principal).filter(pk__in=ids).only(*_ROW_FIELDS)
            found = {alert.pk: alert for alert in chosen}
            rows = [found[alert_id] for alert_id in ids if alert_id in found]
        base = params.copy()
        base.pop("page", None)
        sorted_by = {key: _query(base, sort=key) for key in SORTS}
        context = {
            "query": params.urlencode(),
            "base_query": base.urlencode(),
            "page": page,
            "rows": rows,
            "sort": sort,
            "sorts": [(key, label, sorted_by[key]) for key, label in SORTS.items()],
            "selected": selected,
            "choices": self.choices(),
            "chosen": {name: params.getlist(name) for name in FILTERS},
            "live_query": _query(params, since=loaded.isoformat(), after=loaded.isoformat(), page=None),
            "poll_seconds": POLL_SECONDS,
            "max_snooze_days": MAX_SNOOZE.days,
            "now": loaded,
        }
        return self.page(request, "console/inbox.html", context, status=status if not errors else 400)

    def choices(self) -> dict:
        warehouses = list(
            inventory.warehouse_list(tenant=self.tenant).order_by("code").values_list("code", "name", "region")
        )
        return {
            "grade": [(grade.value, grade.label) for grade in reversed(Grade)],
            "status": AlertStatus.choices,
            "rule": RuleCode.choices,
            "warehouse": [(code, f"{code} · {name}") for code, name, _ in warehouses],
            "region": sorted({(region, region) for _, _, region in warehouses if region}),
            "category": list(inventory.category_list(tenant=self.tenant).order_by("code").values_list("code", "name")),
            "reasons": DismissReason.choices,
            "sorts": list(SORTS.items()),
        }


def _ordering(sort: str) -> list:
    if sort == "newest":
        return ["-opened_at", "-id"]
    return [_GRADE_ORDER.desc(), "-opened_at", "-id"]


def _query(params: QueryDict, **changes: object) -> str:
    query = params.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value is not None:
            query[name] = str(value)
    return query.urlencode()


class InboxPage(InboxView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.inbox(request, inbox_params(request.GET))


class InboxRowsPage(InboxView):
    """Polled by the open inbox: the alerts created since ``after`` that match its filters (new rows
    for the top of its table) and how many arrived since the page loaded (``since``)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        params = inbox_params(request.GET)
        since, after = _moment(request.GET.get("since")), _moment(request.GET.get("after"))
        alerts, errors = self.filtered(params)
        if since is None or after is None or alerts is None:
            problem = "; ".join(errors) or "since and after must be date-times with an offset (ISO 8601)."
            return HttpResponse(
                format_html('<p class="error" id="inbox-live">Live update stopped: {}</p>', problem), status=400
            )
        arrived = alerts.filter(created_at__gt=since).count()
        rows = list(alerts.filter(created_at__gt=after).order_by("-created_at", "-id").only(*_ROW_FIELDS)[:PAGE_SIZE])
        newest = max((alert.created_at for alert in rows), default=after)
        context = {
            "rows": rows,
            "arrived": arrived,
            "live_query": _query(params, since=since.isoformat(), after=newest.isoformat(), page=None),
            "poll_seconds": POLL_SECONDS,
            "selected": frozenset(),
            "now": timezone.now(),
        }
        return self.page(request, "console/inbox_live.html", context)


def _moment(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


class InboxBulkPage(InboxView):
    """One submission of the inbox's form: the checked alerts acknowledged, snoozed or dismissed,
    all or none; the inbox again (its filters kept) with what happened."""

    def post(self, request: HttpRequest) -> HttpResponse:
        params = inbox_params(QueryDict(request.POST.get("next", "")))
        ids = [value.strip() for value in request.POST.getlist("ids") if value.strip()]
        try:
            action, changes = self.parsed(request.POST, ids)
            count = self.act(action, ids, changes)
        except InboxRefused as refused:
            messages.error(request, f"{refused.message} Nothing was changed.")
            return self.inbox(request, params, status=refused.status, selected=frozenset(ids))
        noun = "alert" if count == 1 else "alerts"
        messages.success(request, f"{ACTIONS[action]} {count} {noun}.")
        return HttpResponseRedirect(
            f"{reverse('console:inbox', args=[self.tenant.slug])}?{params.urlencode()}", status=303
        )

    def parsed(self, form: QueryDict, ids: list[str]) -> tuple[str, dict]:
        """The action and the service's arguments, or ``InboxRefused`` saying what is wrong."""
        action = form.get("action", "")
        if action not in ACTIONS:
            raise InboxRefused(f"Choose an action: {', '.join(ACTIONS)}.")
        if not ids:
            raise InboxRefused("Select at least one alert.")
        if len(ids) > MAX_BULK:
            raise InboxRefused(f"At most {MAX_BULK} alerts at a time; you selected {len(ids)}.")
        for value in ids:
            try:
                uuid.UUID(value)
            except ValueError:
                raise InboxRefused(f"{value[:40]!r} is not an alert id.") from None
        try:
            note = NOTE.clean(form.get("note", ""))
        except ValidationError as invalid:
            raise InboxRefused(f"Note: {' '.join(invalid.messages)}") from None
        if action == "acknowledge":
            return action, {"note": note}
        if action == "snooze":
            return action, {"until": _until(form.get("until", "")), "note": note}
        reason = form.get("reason", "")
        if reason not in DismissReason.values:
            raise InboxRefused(f"Choose why you dismiss: one of {', '.join(DismissReason.values)}.")
        if reason == DismissReason.OTHER and not note:
            raise InboxRefused("Say why in the note when the reason is other; the timeline keeps it.")
        return action, {"reason": reason, "note": note}

    def act(self, action: str, ids: list[str], changes: dict) -> int:
        """Every alert changed through the API's own service, in one transaction (locked in id order)."""
        service = {
            "acknowledge": services.alert_acknowledge,
            "snooze": services.alert_snooze,
            "dismiss": services.alert_dismiss,
        }[action]
        wanted = set(ids)
        with transaction.atomic():
            alerts = list(selectors.alert_list(principal=self.principal).filter(pk__in=wanted).order_by("pk"))
            missing = len(wanted) - len(alerts)
            if missing:
                raise InboxRefused(
                    f"{missing} of the {len(wanted)} selected alerts {'is' if missing == 1 else 'are'} not among "
                    "this tenant's alerts."
                )
            for alert in alerts:
                try:
                    service(alert=alert, actor=self.principal, **changes)
                except Conflict as conflict:
                    raise InboxRefused(f"{_named(alert)}: {conflict}", status=409) from None
                except ValidationError as invalid:
                    raise InboxRefused(f"{_named(alert)}: {' '.join(invalid.messages)}") from None
        return len(alerts)


def _named(alert: Alert) -> str:
    grade, rule = alert.get_grade_display().lower(), alert.get_rule_display().lower()
    return f"The {grade} {rule} alert of {alert.sku.code} at {alert.warehouse.code}"


def _until(value: str) -> datetime:
    """A snooze's end from the form: ``YYYY-MM-DDTHH:MM`` in UTC (what a date-time field sends), or
    ISO 8601 with an offset; in the future and at most ``MAX_SNOOZE`` ahead."""
    try:
        until = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InboxRefused("Give the time to snooze until (UTC), e.g. 2026-12-24T09:00.") from None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    now = timezone.now()
    if until <= now:
        raise InboxRefused(f"Snooze until a time ahead: {until:%Y-%m-%d %H:%M} UTC has passed.")
    if until - now > MAX_SNOOZE:
        raise InboxRefused(f"Snooze at most {MAX_SNOOZE.days} days ahead; dismiss the alert instead.")
    return until
