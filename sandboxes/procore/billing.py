"""Billing resources grouped for the route table: requisitions, owner billing, direct costs."""

from __future__ import annotations

from .direct_costs import DirectCostsMixin
from .owner import OwnerMixin
from .requisitions import RequisitionsMixin


class BillingMixin(RequisitionsMixin, OwnerMixin, DirectCostsMixin):
    def _billing_routes(self) -> None:
        self._requisition_routes()
        self._owner_routes()
        self._direct_cost_routes()
