"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.budget.allocations.models import (
    Allocation,
    AllocationChange,
    AllocationUnit,
    BufferEntry,
    Redistribution,
)
from hjemflyt.budget.delivered.models import DeliveryFlag, DeliverySweep
from hjemflyt.budget.deliveries.models import Admission, DeliveredVisit, VisitCorrection
from hjemflyt.budget.financing.models import RuleSet
from hjemflyt.budget.hours.models import DecidedHours, DecisionState, EndedHours, ProviderChoice, ProviderUnit
from hjemflyt.budget.kostra.models import Inhabitants, KostraFunction
from hjemflyt.budget.settlements.models import BeyondDecisionApproval, Dispute, Settlement, SettlementLine

__all__ = ["DecidedHours", "DecisionState", "ProviderChoice", "ProviderUnit", "RuleSet"]
__all__ += ["Allocation", "AllocationChange", "AllocationUnit", "BufferEntry", "Redistribution"]
__all__ += ["Admission", "DeliveredVisit", "Dispute", "Settlement", "SettlementLine", "VisitCorrection"]
__all__ += ["Inhabitants", "KostraFunction"]
__all__ += ["BeyondDecisionApproval", "DeliveryFlag", "DeliverySweep", "EndedHours"]
