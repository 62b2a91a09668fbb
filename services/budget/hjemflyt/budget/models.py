"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.budget.financing.models import RuleSet
from hjemflyt.budget.hours.models import DecidedHours, DecisionState, ProviderChoice, ProviderUnit

__all__ = ["DecidedHours", "DecisionState", "ProviderChoice", "ProviderUnit", "RuleSet"]
