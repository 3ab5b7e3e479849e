"""The Market dashboard: its panels, in the order Horizon's menu shows them."""

import horizon
from django.utils.translation import gettext_lazy as _


class Customer(horizon.PanelGroup):
    slug = "customer"
    name = _("Market")
    panels = ("marketplace", "subscriptions", "leases", "usage", "invoices", "budget")


class Landlord(horizon.PanelGroup):
    slug = "landlord"
    name = _("Landlord")
    panels = ("settlements",)


class Market(horizon.Dashboard):
    name = _("Market")
    slug = "market"
    panels = (Customer, Landlord)
    default_panel = "marketplace"


horizon.register(Market)
