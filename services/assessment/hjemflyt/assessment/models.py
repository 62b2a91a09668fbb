"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.assessment.admissions.models import Admission
from hjemflyt.assessment.appeals.models import Appeal
from hjemflyt.assessment.assessments.models import Assessment, AssessmentGoal
from hjemflyt.assessment.assignments.models import Assignment
from hjemflyt.assessment.config.models import CaseOffice, CopaymentBand, LegalBasis, Municipality, ServiceType
from hjemflyt.assessment.decisions.models import (
    Decision,
    DecisionService,
    DecisionVersion,
    Measure,
    ProviderChoice,
)
from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.documents.models import PersonDocument
from hjemflyt.assessment.messaging.models import PloMessage, PloTask
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.providers.models import ApprovedProvider
from hjemflyt.assessment.referrals.models import Application, Referral

__all__ = [
    "Admission",
    "Appeal",
    "Application",
    "ApprovedProvider",
    "Assessment",
    "AssessmentGoal",
    "Assignment",
    "CaseOffice",
    "CopaymentBand",
    "Decision",
    "DecisionService",
    "DecisionVersion",
    "District",
    "LegalBasis",
    "Measure",
    "Municipality",
    "Person",
    "PersonDocument",
    "PloMessage",
    "PloTask",
    "ProviderChoice",
    "Referral",
    "ServiceType",
]
