"""Registers the Settlements panel."""

import horizon
from django.utils.translation import gettext_lazy as _

from ocx.dashboard.horizon.market import dashboard, exchange


class Panel(horizon.Panel):
    name = _("Settlements")
    slug = "settlements"

    def allowed(self, context: dict[str, object]) -> bool:
        """The exchange operator (every landlord's) and a landlord's administrator (their own,
        signed in through their landlord's identity); the exchange checks the same again."""
        request = context["request"]
        return exchange.is_operator(request) or exchange.landlord_of(request) is not None


dashboard.Market.register(Panel)
