"""The Market dashboard's pages: each reads the exchange as the signed-in user.

Every change (subscribe, cancel, extend) is a POST with Django's CSRF token, answered with a
redirect (so a reload never repeats it); what the exchange refuses is shown as its message.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import http
from django.contrib import messages
from django.urls import reverse
from horizon import views

from ocx.dashboard.horizon.market import charts, exchange

SORTS = ("price", "availability", "name")


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def _period(request: Any) -> str:
    period = request.GET.get("period") or _this_month()
    return period if len(period) == 7 and period[4] == "-" else _this_month()


class MarketView(views.HorizonTemplateView):
    """A page of the Market dashboard; ``load`` reads the exchange, errors become messages."""

    def load(self, request: Any) -> dict[str, Any]:
        return {}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["at_exchange"] = exchange.signed_in_at_exchange(self.request)
        try:
            context.update(self.load(self.request))
        except exchange.ExchangeError as exc:
            messages.error(self.request, f"The exchange answered {exc.status}: {exc.message}")
        return context

    def back(self, **query: str) -> http.HttpResponse:
        name = self.request.resolver_match.view_name
        tail = "&".join(f"{k}={v}" for k, v in query.items())
        return http.HttpResponseRedirect(reverse(name) + (f"?{tail}" if tail else ""))

    def change(self, work: Any, done: str) -> None:
        """Run one change at the exchange; tell the user how it went."""
        if not exchange.signed_in_at_exchange(self.request):
            messages.error(self.request, "Sign in at the exchange to change your contracts.")
            return
        try:
            work()
        except exchange.ExchangeError as exc:
            messages.error(self.request, f"The exchange refused: {exc.message}")
        else:
            messages.success(self.request, done)


def offering_row(offering: dict[str, Any]) -> dict[str, Any]:
    prices = offering.get("prices") or []
    first = prices[0] if prices else {}
    return {
        **offering,
        "price": first.get("price", ""),
        "unit": first.get("unit", ""),
        "metric": first.get("metric", ""),
        "all_prices": ", ".join(f"{p['metric']} {p['price']}/{p['unit']}" for p in prices),
        "sla_availability": (offering.get("sla") or {}).get("availability", ""),
        "capability_list": ", ".join(offering.get("capabilities") or []),
    }


class MarketplaceView(MarketView):
    template_name = "market/marketplace.html"
    page_title = "Marketplace"

    def load(self, request: Any) -> dict[str, Any]:
        q = request.GET
        sort = q.get("sort") if q.get("sort") in SORTS else "price"
        filters = {
            "service_type": q.get("service_type") or None,
            "capability": q.get("capability") or None,
            "max_price": q.get("max_price") or None,
            "landlord": q.get("landlord") or None,
        }
        began = time.perf_counter()
        doc = exchange.get(request, "/v1/offerings", sort=sort, limit=1000, **filters)
        rows = [offering_row(o) for o in doc["offerings"]]
        compared = [r for r in rows if r["id"] in q.getlist("compare")]
        return {
            "offerings": rows,
            "filters": filters,
            "sort": sort,
            "sorts": SORTS,
            "service_types": ("object-store", "volume", "compute", "image", "proxy"),
            "compared": compared,
            "compare_metrics": sorted({p["metric"] for r in compared for p in r["prices"]}),
            "exchange_ms": round((time.perf_counter() - began) * 1000),
        }

    def post(self, request: Any, *args: Any, **kwargs: Any) -> http.HttpResponse:
        offering = request.POST.get("offering_id", "")
        plan = request.POST.get("plan") or "default"
        self.change(
            lambda: exchange.send(
                request, "POST", "/v1/subscriptions", {"offering_id": offering, "plan": plan}
            ),
            f"Subscribed to {request.POST.get('offering_name', offering)} (plan {plan}).",
        )
        return self.back()


class SubscriptionsView(MarketView):
    template_name = "market/subscriptions.html"
    page_title = "Subscriptions"

    def load(self, request: Any) -> dict[str, Any]:
        if not exchange.signed_in_at_exchange(request):
            return {}
        subs = exchange.get(request, "/v1/subscriptions")["subscriptions"]
        names = {
            o["id"]: o["name"]
            for o in exchange.get(request, "/v1/offerings", status="all", limit=1000)["offerings"]
        }
        for sub in subs:
            sub["offering_name"] = names.get(sub["offering_id"], sub["offering_id"][:8])
            sub["since"] = _when(sub.get("created_at"))
        return {"subscriptions": subs}

    def post(self, request: Any, *args: Any, **kwargs: Any) -> http.HttpResponse:
        sub_id = request.POST.get("subscription_id", "")
        self.change(
            lambda: exchange.send(request, "DELETE", f"/v1/subscriptions/{sub_id}"),
            f"Cancelled {sub_id}: no new use; what is stored stays (and is billed) until deleted.",
        )
        return self.back()


class LeasesView(MarketView):
    template_name = "market/leases.html"
    page_title = "Leases"
    WARN_SECONDS = 24 * 3600

    def load(self, request: Any) -> dict[str, Any]:
        if not exchange.signed_in_at_exchange(request):
            return {}
        leases = exchange.get(request, "/v1/leases", status="all")["leases"]
        now = time.time()
        for lease in leases:
            lease["starts"], lease["ends"] = _when(lease["start"]), _when(lease["end"])
            lease["expiring"] = lease["status"] in ("created", "active") and (
                lease["end"] - now < self.WARN_SECONDS
            )
        return {"leases": leases, "timeline": charts.timeline(leases, now)}

    def post(self, request: Any, *args: Any, **kwargs: Any) -> http.HttpResponse:
        lease_id = request.POST.get("lease_id", "")
        try:
            hours = float(request.POST.get("hours", ""))
            end = float(request.POST.get("end", "")) + hours * 3600
        except ValueError:
            messages.error(request, "Give the extension in hours.")
            return self.back()
        self.change(
            lambda: exchange.send(request, "PATCH", f"/v1/leases/{lease_id}", {"end": end}),
            f"Lease {lease_id} now ends {_when(end)} UTC.",
        )
        return self.back()


class UsageView(MarketView):
    template_name = "market/usage.html"
    page_title = "Usage"

    def load(self, request: Any) -> dict[str, Any]:
        period = _period(request)
        if not exchange.signed_in_at_exchange(request):
            return {"period": period}
        # Summed at the exchange (by landlord, metric and hour): the page's work no longer
        # grows with the number of records, and none is left out past a page of them.
        summary = exchange.get(request, "/v1/usage/summary", period=period)
        groups = summary["groups"]
        return {
            "period": period,
            "records": summary["records"],
            "chart": charts.usage_by_day(groups),
            "totals": charts.totals(groups),
        }


class InvoicesView(MarketView):
    template_name = "market/invoices.html"
    page_title = "Invoices"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> http.HttpResponse:
        if request.GET.get("format") != "csv":
            return super().get(request, *args, **kwargs)
        period = _period(request)
        try:
            text = exchange.get(request, f"/v1/invoices/{period}", format="csv")
        except exchange.ExchangeError as exc:
            messages.error(request, f"The exchange answered {exc.status}: {exc.message}")
            return self.back(period=period)
        answer = http.HttpResponse(text, content_type="text/csv")
        answer["Content-Disposition"] = f'attachment; filename="invoice-{period}.csv"'
        return answer

    def load(self, request: Any) -> dict[str, Any]:
        period = _period(request)
        if not exchange.signed_in_at_exchange(request):
            return {"period": period}
        return {
            "period": period,
            "invoice": exchange.get(request, f"/v1/invoices/{period}")["invoice"],
        }


class BudgetView(MarketView):
    """The month's spending against the customer's cap: a warning from 80 % (the exchange's
    own threshold, at which it also sends a ``budget.warning`` event), and the choice to have
    new use refused at 100 %."""

    template_name = "market/budget.html"
    page_title = "Budget"
    WARN_AT = Decimal("0.8")

    def load(self, request: Any) -> dict[str, Any]:
        if not exchange.signed_in_at_exchange(request):
            return {}
        budget = exchange.get(request, "/v1/budget")["budget"]
        used = Decimal(budget.get("used_fraction") or 0)
        return {
            "budget": budget,
            "percent": f"{used * 100:.1f}",
            "bar": f"{min(used, Decimal(1)) * 100:.1f}",
            "warning": used >= self.WARN_AT,
            "over": used >= 1,
        }

    def post(self, request: Any, *args: Any, **kwargs: Any) -> http.HttpResponse:
        cap = request.POST.get("monthly_cap", "").strip()
        refuse = request.POST.get("refuse_over") == "on"
        self.change(
            lambda: exchange.send(
                request, "PUT", "/v1/budget", {"monthly_cap": cap, "refuse_over": refuse}
            ),
            f"Monthly cap set to {cap}" + (", new use refused at 100 %." if refuse else "."),
        )
        return self.back()


class SettlementsView(MarketView):
    template_name = "market/settlements.html"
    page_title = "Settlements"

    def load(self, request: Any) -> dict[str, Any]:
        """Every landlord's, for the operator; a landlord administrator's own, for them."""
        period = _period(request)
        landlords = exchange.get(request, "/v1/landlords")["landlords"]
        own = exchange.landlord_of(request)
        if own is not None and not exchange.is_operator(request):
            landlords = [landlord for landlord in landlords if landlord["name"] == own]
        found = []
        for landlord in landlords:
            doc = exchange.get(request, f"/v1/landlords/{landlord['name']}/settlements/{period}")
            found.append({"landlord": landlord, "settlement": doc.get("settlement", doc)})
        return {"period": period, "settlements": found}
