"""Registers the Leases panel."""

import horizon
from django.utils.translation import gettext_lazy as _

from ocx.dashboard.horizon.market import dashboard


class Panel(horizon.Panel):
    name = _("Leases")
    slug = "leases"


dashboard.Market.register(Panel)
