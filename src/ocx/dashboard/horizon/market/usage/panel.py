"""Registers the Usage panel."""

import horizon
from django.utils.translation import gettext_lazy as _

from ocx.dashboard.horizon.market import dashboard


class Panel(horizon.Panel):
    name = _("Usage")
    slug = "usage"


dashboard.Market.register(Panel)
