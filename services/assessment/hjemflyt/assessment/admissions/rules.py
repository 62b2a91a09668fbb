"""Admission rules (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

# Clocks of hospital systems and ours differ a little; more than this in the future is an error.
CLOCK_SKEW = timedelta(minutes=5)


class InstitutionKind(StrEnum):
    hospital = "hospital"
    nursing_home = "nursing_home"
    short_term_stay = "short_term_stay"
    other = "other"


def admission_problem(admitted_at: datetime, now: datetime) -> str | None:
    if admitted_at > now + CLOCK_SKEW:
        return "admission-in-future"
    return None


def discharge_problem(admitted_at: datetime, discharged_at: datetime, now: datetime) -> str | None:
    if discharged_at > now + CLOCK_SKEW:
        return "discharge-in-future"
    if discharged_at < admitted_at:
        return "discharge-before-admission"
    return None
