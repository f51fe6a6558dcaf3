"""Moving stock by hand: a transfer request drafted from the map (drag one warehouse onto another) or
chosen here with two menus, for a planner on a phone or without a mouse.

The request goes through ``transfer_request_create``, the service the API's ``POST transfers/``
calls, with the planner's principal: the same checks (what the source can spare, a destination
other than the source, a SKU of the tenant) and the same approvals (the tenant's auto-approval
policy). A refusal shows the service's own message with 400, and nothing is written.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from console.pages import ACTORS, READERS, ConsolePage
from core.exceptions import Conflict
from core.inventory.models import Warehouse
from core.inventory.selectors import warehouse_list
from core.transfers import selectors as transfer_selectors
from core.transfers import services as transfer_services

RECENT = 8  # transfer requests listed under the form


class TransferDraftForm(forms.Form):
    """The edge's checks of the fields; the domain's (spare stock, codes) are the service's."""

    source = forms.CharField(max_length=64)
    destination = forms.CharField(max_length=64)
    sku = forms.CharField(max_length=64, label="SKU")
    quantity = forms.IntegerField(min_value=1, max_value=10_000_000)
    note = forms.CharField(max_length=1000, required=False)


class TransferDraftPage(ConsolePage):
    """``GET ?source=&destination=&sku=``: the draft, prefilled; ``POST``: the transfer request."""

    section = "heatmap"
    access = {"GET": READERS, "POST": ACTORS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, request.GET, status=200)

    def post(self, request: HttpRequest) -> HttpResponse:
        form = TransferDraftForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                for error in errors:
                    messages.error(request, f"{form.fields[field].label or field.capitalize()}: {error}")
            return self._render(request, request.POST, status=400)
        data = form.cleaned_data
        try:
            transfer = transfer_services.transfer_request_create(
                principal=self.principal,
                tenant=self.tenant,
                sku=data["sku"],
                source=data["source"],
                destination=data["destination"],
                quantity=data["quantity"],
                note=data["note"],
            )
        except ValidationError as refused:
            for field, errors in refused.message_dict.items():
                for error in errors:
                    messages.error(request, f"{field.capitalize()}: {error}")
            return self._render(request, request.POST, status=400)
        except Conflict as refused:
            messages.error(request, str(refused))
            return self._render(request, request.POST, status=400)
        messages.success(
            request,
            f"Transfer {transfer.reference} requested: {transfer.quantity} of {transfer.sku.code} from "
            f"{transfer.source.code} to {transfer.destination.code}; it is {transfer.status}.",
        )
        here = reverse("console:transfer-draft", args=[self.tenant.slug])
        route = urlencode({"source": data["source"], "destination": data["destination"]})
        return HttpResponseRedirect(f"{here}?{route}")

    def _render(self, request: HttpRequest, values: object, *, status: int) -> HttpResponse:
        warehouses = list(warehouse_list(tenant=self.tenant).order_by("code"))
        by_code = {warehouse.code: warehouse for warehouse in warehouses}
        chosen = {name: str(values.get(name, "")).strip() for name in ("source", "destination", "sku", "quantity")}
        chosen["note"] = str(values.get("note", ""))
        source: Warehouse | None = by_code.get(chosen["source"])
        if chosen["source"] and source is None:
            messages.error(request, f"Source: no warehouse {chosen['source']!r} in this tenant.")
            status = 400
        if chosen["destination"] and chosen["destination"] not in by_code:
            messages.error(request, f"Destination: no warehouse {chosen['destination']!r} in this tenant.")
            status = 400
        spares = (
            [
                {
                    "code": position.sku.code,
                    "name": position.sku.name,
                    "spare": spare.units,
                    "available": spare.available,
                    "safety_stock": spare.safety_stock,
                }
                for position, spare in transfer_selectors.spares_at(principal=self.principal, warehouse=source)
            ]
            if source is not None
            else []
        )
        recent = transfer_selectors.transfer_list(principal=self.principal).order_by("-created_at", "-id")[:RECENT]
        return self.page(
            request,
            "console/transfer_draft.html",
            {
                "warehouses": warehouses,
                "chosen": chosen,
                "source": source,
                "spares": spares,
                "recent": recent,
                "may_move": self.principal.access in ACTORS,
            },
            status=status,
        )
