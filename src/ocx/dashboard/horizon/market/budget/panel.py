"""Registers the Budget panel."""

import horizon
from django.utils.translation import gettext_lazy as _

from ocx.dashboard.horizon.market import dashboard


class Panel(horizon.Panel):
    name = _("Budget")
    slug = "budget"


dashboard.Market.register(Panel)
