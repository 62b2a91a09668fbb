"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.assessment.config.models import CaseOffice, CopaymentBand, LegalBasis, Municipality, ServiceType
from hjemflyt.assessment.decisions.models import Decision, DecisionService
from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.providers.models import ApprovedProvider

__all__ = [
    "ApprovedProvider",
    "CaseOffice",
    "CopaymentBand",
    "Decision",
    "DecisionService",
    "District",
    "LegalBasis",
    "Municipality",
    "Person",
    "ServiceType",
]
