"""One alert: what tripped, the inputs and thresholds with where each came from, the timeline, the
lifecycle actions, the recommendation with accept / reject, the RFQ with its quotes, the transfers.

The figures are the API's own: the alert is rendered by ``AlertDetailOutput`` (what ``alerts/{id}/``
answers), and every action calls the service its API endpoint calls (``core.alerts.services``,
``core.playbooks.acceptance``). Actions post to the page itself: a refused one re-renders it with the
reason and status 400 (nothing written), a done one redirects back to it with what was done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from api.alerts.serializers import AlertDetailOutput
from console.pages import ACTORS, READERS, ConsolePage
from console.position_page import found, position_rfqs, position_transfers
from core.alerts import policy_versions, selectors, services
from core.alerts.catalog import INDICATORS
from core.alerts.models import LIVE_STATUSES, Alert, AlertStatus, DismissReason, PolicyChange, RuleCode
from core.alerts.rules import RULES
from core.alerts.services import dismiss_reason_help
from core.exceptions import Conflict, Contended
from core.playbooks import acceptance
from core.playbooks import selectors as playbook_selectors
from core.playbooks.models import RecommendationStatus
from core.procurement import selectors as procurement_selectors
from tenants.models import Tenant
from tenants.principals import Principal

# --- Forms: the console's input serializers -------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(max_length=500, required=False)


class DismissForm(NoteForm):
    reason = forms.ChoiceField(choices=DismissReason.choices, error_messages={"invalid_choice": dismiss_reason_help()})


class SnoozeForm(NoteForm):
    # A datetime-local input sends no offset: read it in the tenant's console time zone (UTC).
    until = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])


class DecisionForm(NoteForm):
    recommendation = forms.UUIDField()


class Refused(Exception):
    """An action the page refuses (400), with the words shown to the planner."""


def _messages_of(error: ValidationError | forms.Form) -> str:
    """One sentence of a form's or a service's validation errors, each prefixed with its field."""
    if isinstance(error, forms.Form):
        items = error.errors.items()
    elif hasattr(error, "error_dict"):
        items = ((name, [m for e in errors for m in e.messages]) for name, errors in error.error_dict.items())
    else:
        items = [("", error.messages)]
    return " ".join(f"{name + ': ' if name and name != '__all__' else ''}{' '.join(texts)}" for name, texts in items)


def _valid(form_class: type[forms.Form], data: object) -> dict:
    form = form_class(data)
    if not form.is_valid():
        raise Refused(_messages_of(form))
    return form.cleaned_data


# --- Reads ----------------------------------------------------------------------------------------


def _scopes(alert: Alert) -> dict[str, dict]:
    """A source label (as ``PolicyBook`` writes it) -> the policy-version filter of that scope."""
    sku = alert.sku
    no_scope = {"sku__isnull": True, "category__isnull": True}
    return {
        f"SKU {sku.code}": {"sku_id": sku.pk},
        f"category {sku.category.code}": {"category_id": sku.category_id, "sku__isnull": True},
        f"velocity class {sku.velocity_class}": {"velocity_class": sku.velocity_class, **no_scope},
        "tenant default": {"velocity_class": "", **no_scope},
    }


def _versions(tenant: Tenant, alert: Alert, labels: set[str]) -> dict[str, PolicyChange]:
    """The policy version of each scope a value came from: the latest at or before the alert last
    took its figures (``updated_at``), as the policy-changes/ list numbers them."""
    scopes = _scopes(alert)
    versions = {}
    for label in labels & set(scopes):
        version = (
            policy_versions.policy_change_list(tenant=tenant)
            .filter(rule=alert.rule, created_at__lte=alert.updated_at, **scopes[label])
            .order_by("-version")
            .first()
        )
        if version is not None:
            versions[label] = version
    return versions


def threshold_rows(tenant: Tenant, alert: Alert, thresholds: dict) -> list[dict]:
    """The effective policy stored on the alert, one row per setting: value, source, policy version."""
    spec = RULES.get(alert.rule)
    sources = thresholds.get("sources") or {}
    rows: list[dict] = []
    if thresholds.get("standard") is not None:
        rows.append({"name": "standard", "value": thresholds["standard"], "key": "standard", "help": ""})
    bands = thresholds.get("bands") or {}
    if bands:
        shown = " / ".join(f"{bands[g] * 100:g} %" for g in ("yellow", "orange", "red") if g in bands)
        rows.append({"name": "bands (yellow / orange / red)", "value": shown, "key": "bands", "help": ""})
    for name, value in (thresholds.get("thresholds") or {}).items():
        rows.append({"name": name, "value": value, "key": f"thresholds.{name}", "help": INDICATORS.get(name, "")})
    for name, value in (thresholds.get("parameters") or {}).items():
        parameter = spec.parameters.get(name) if spec else None
        rows.append(
            {"name": name, "value": value, "key": f"parameters.{name}", "help": parameter.help if parameter else ""}
        )
    versions = _versions(tenant, alert, {sources.get(row["key"], "") for row in rows})
    for row in rows:
        row["source"] = sources.get(row["key"], "")
        row["version"] = versions.get(row["source"])
    return rows


def input_rows(inputs: dict) -> list[dict]:
    return [{"name": name, "value": value, "help": INDICATORS.get(name, "")} for name, value in inputs.items()]


def alert_detail(alert: Alert, principal: Principal) -> dict:
    """The alert exactly as ``alerts/{id}/`` answers it to staff."""
    context = {"now": timezone.now(), "events": selectors.alert_events(alert=alert), "principal": principal}
    return AlertDetailOutput(alert, context=context).data


def alert_rfq(*, principal: Principal, alert: Alert) -> dict | None:
    """The alert's RFQ with its invitations, quotes and purchase order (what ``rfqs/{id}/`` shows)."""
    rfq = procurement_selectors.rfq_list(principal=principal).filter(alert=alert).first()
    if rfq is None:
        return None
    quotes = list(procurement_selectors.quote_list(rfq=rfq, principal=principal))
    return {
        "rfq": rfq,
        "invitations": list(procurement_selectors.rfq_invitations(rfq=rfq)),
        "quotes": quotes,
        "awarded": next((quote for quote in quotes if quote.pk == rfq.awarded_quote_id), None),
        "purchase_order": procurement_selectors.purchase_order_of(rfq=rfq),
    }


class AlertPage(ConsolePage):
    """The alert a planner works: read it, act on it, decide its recommendation."""

    section = "inbox"
    access = {"GET": READERS, "POST": ACTORS}

    def _alert(self, alert_id: object) -> Alert:
        return found(selectors.alert_get, principal=self.principal, alert_id=alert_id)

    def get(self, request: HttpRequest, alert_id: object) -> HttpResponse:
        return self.render_alert(request, self._alert(alert_id))

    def render_alert(self, request: HttpRequest, alert: Alert, status: int = 200) -> HttpResponse:
        detail = alert_detail(alert, self.principal)
        records = list(
            playbook_selectors.recommendation_list(principal=self.principal).filter(alert=alert).order_by("created_at")
        )
        live = alert.status in LIVE_STATUSES
        others = position_rfqs(principal=self.principal, position_id=alert.position_id).exclude(alert=alert)
        context = {
            "alert": alert,
            "detail": detail,
            "rule_label": RuleCode(alert.rule).label if alert.rule in RuleCode.values else alert.rule,
            "rule_summary": RULES[alert.rule].summary if alert.rule in RULES else "",
            "inputs": input_rows(detail["inputs"] or {}),
            "thresholds": threshold_rows(self.tenant, alert, detail["thresholds"] or {}),
            "timeline": [{**event, "when": event["created_at"][:16].replace("T", " ")} for event in detail["timeline"]],
            "advice": detail["recommendation"] or {},
            "advice_figures": [
                (name, value)
                for name, value in (detail["recommendation"] or {}).items()
                if name not in ("summary", "action", "suppliers") and not isinstance(value, dict | list)
            ],
            "records": records,
            "rfq": alert_rfq(principal=self.principal, alert=alert),
            "transfers": position_transfers(
                principal=self.principal, sku_id=alert.sku_id, warehouse_id=alert.warehouse_id
            )[:50],
            "other_rfqs": others[:10],
            "can_acknowledge": alert.status == AlertStatus.OPEN,
            "live": live,
            "dismiss_reasons": DismissReason.choices,
            "snooze_default": (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "snooze_min": timezone.now().strftime("%Y-%m-%dT%H:%M"),
            "proposed": RecommendationStatus.PROPOSED,
            "api_detail": reverse("v1:alert-detail", kwargs={"tenant_slug": self.tenant.slug, "alert_id": alert.pk}),
        }
        return self.page(request, "console/alert.html", context, status=status)

    def post(self, request: HttpRequest, alert_id: object) -> HttpResponse:
        alert = self._alert(alert_id)
        action = request.POST.get("action", "")
        handler = self.actions.get(action)
        try:
            if handler is None:
                raise Refused(f"Unknown action {action!r}: one of {', '.join(self.actions)}.")
            done = handler(self, alert, request.POST)
        except Refused as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
        except Conflict as exc:
            messages.error(request, str(exc))
        except Contended:
            # PostgreSQL gave up on every attempt (a deadlock with the engine): nothing was written.
            messages.error(request, "The database was busy and nothing was written; try again in a moment.")
            return self.render_alert(request, self._alert(alert.pk), status=503)
        else:
            messages.success(request, done)
            return redirect("console:alert", tenant_slug=self.tenant.slug, alert_id=alert.pk)
        return self.render_alert(request, self._alert(alert.pk), status=400)

    # Each action: the form, then the service the API's endpoint calls; answers what was done.

    def acknowledge(self, alert: Alert, data: object) -> str:
        services.alert_acknowledge(alert=alert, actor=self.principal, **_valid(NoteForm, data))
        return "Acknowledged: the engine keeps grading it."

    def resolve(self, alert: Alert, data: object) -> str:
        services.alert_resolve(alert=alert, actor=self.principal, **_valid(NoteForm, data))
        return "Resolved: if the position still trips the rule, the next evaluation opens a new alert."

    def dismiss(self, alert: Alert, data: object) -> str:
        values = _valid(DismissForm, data)
        services.alert_dismiss(alert=alert, actor=self.principal, reason=values["reason"], note=values["note"])
        return f"Dismissed ({DismissReason(values['reason']).label.lower()}): it reopens only if it gets worse."

    def snooze(self, alert: Alert, data: object) -> str:
        values = _valid(SnoozeForm, data)
        services.alert_snooze(alert=alert, actor=self.principal, until=values["until"], note=values["note"])
        return f"Snoozed until {values['until']:%Y-%m-%d %H:%M} UTC; an escalation wakes it early."

    def _decide(self, alert: Alert, data: object, *, accept: bool) -> str:
        values = _valid(DecisionForm, data)
        record = found(
            playbook_selectors.recommendation_get, principal=self.principal, recommendation_id=values["recommendation"]
        )
        if record.alert_id != alert.pk:
            raise Refused("That recommendation is not this alert's.")
        if accept:
            acceptance.recommendation_accept(recommendation=record, actor=self.principal, note=values["note"])
            return f"Accepted: {record.summary}"
        acceptance.recommendation_decide(recommendation=record, actor=self.principal, accept=False, note=values["note"])
        return "Rejected: the same kind is not proposed again for this alert."

    def accept(self, alert: Alert, data: object) -> str:
        return self._decide(alert, data, accept=True)

    def reject(self, alert: Alert, data: object) -> str:
        return self._decide(alert, data, accept=False)

    actions: dict[str, Callable[[AlertPage, Alert, Any], str]] = {
        "acknowledge": acknowledge,
        "snooze": snooze,
        "resolve": resolve,
        "dismiss": dismiss,
        "accept": accept,
        "reject": reject,
    }
