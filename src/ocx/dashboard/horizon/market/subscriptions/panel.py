"""Registers the Subscriptions panel."""

import horizon
from django.utils.translation import gettext_lazy as _

from ocx.dashboard.horizon.market import dashboard


class Panel(horizon.Panel):
    name = _("Subscriptions")
    slug = "subscriptions"


dashboard.Market.register(Panel)
