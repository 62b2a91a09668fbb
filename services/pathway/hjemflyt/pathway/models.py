"""Imports every model so the metadata is complete (Alembic and tests use it)."""

from hjemflyt.pathway.assignments.models import PersonAssignment
from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.pathway.indicators.models import (
    AppealFact,
    DecisionFact,
    QualityBoardWeek,
    ReferralFact,
    VisitFact,
)
from hjemflyt.pathway.pathways.models import (
    Pathway,
    PathwayCorrection,
    PathwayReferral,
    PathwayTask,
    PathwayTemplate,
)
from hjemflyt.pathway.responsibility.models import PrimaryContact, Responsibility
from hjemflyt.pathway.timeline.models import TimelineEntry
from hjemflyt.pathway.worklists.models import (
    AdjustmentLogged,
    CaseTask,
    ChangeOfNeedReport,
    DeliveryFlag,
    ProviderOrder,
)

__all__ = [
    "AdjustmentLogged",
    "AppealFact",
    "CaseTask",
    "ChangeOfNeedReport",
    "DecisionFact",
    "DeliveryFlag",
    "Pathway",
    "PathwayCorrection",
    "PathwayReferral",
    "PathwayTask",
    "PathwayTemplate",
    "PersonAssignment",
    "PersonDecision",
    "PrimaryContact",
    "ProviderOrder",
    "QualityBoardWeek",
    "ReferralFact",
    "Responsibility",
    "TimelineEntry",
    "VisitFact",
]
