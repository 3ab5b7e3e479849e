"""Registers the Settlements panel."""

import horizon
from django.utils.translation import gettext_lazy as _

from ocx.dashboard.horizon.market import dashboard


class Panel(horizon.Panel):
    name = _("Settlements")
    slug = "settlements"
    # Only the exchange operator (admin at its identity) sees every landlord's settlement.
    permissions = ("openstack.roles.admin", "openstack.services.exchange")


dashboard.Market.register(Panel)
