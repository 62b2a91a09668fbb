"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.budget.allocations.models import (
    Allocation,
    AllocationChange,
    AllocationUnit,
    BufferEntry,
    Redistribution,
)
from hjemflyt.budget.deliveries.models import Admission, DeliveredVisit, VisitCorrection
from hjemflyt.budget.financing.models import RuleSet
from hjemflyt.budget.hours.models import DecidedHours, DecisionState, ProviderChoice, ProviderUnit
from hjemflyt.budget.kostra.models import Inhabitants, KostraFunction
from hjemflyt.budget.settlements.models import Dispute, Settlement, SettlementLine

__all__ = ["DecidedHours", "DecisionState", "ProviderChoice", "ProviderUnit", "RuleSet"]
__all__ += ["Allocation", "AllocationChange", "AllocationUnit", "BufferEntry", "Redistribution"]
__all__ += ["Admission", "DeliveredVisit", "Dispute", "Settlement", "SettlementLine", "VisitCorrection"]
__all__ += ["Inhabitants", "KostraFunction"]
