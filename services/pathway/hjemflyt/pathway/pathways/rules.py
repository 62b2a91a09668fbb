"""Pure rules of pathways (DOMAIN § 5, Stavanger's model): templates, planned ends,
decision deadlines, which deadline tasks are due, outcomes and date checks. No IO.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum, StrEnum


class Kind(IntEnum):
    follow_up_call = 0
    mastery_two_weeks = 1
    reablement_two_months = 2
    palliative = 3


class Status(StrEnum):
    open = "open"
    closed = "closed"


class Outcome(StrEnum):
    no_services = "no_services"
    reduced = "reduced"
    unchanged = "unchanged"
    increased = "increased"


class DecisionRule(StrEnum):
    none = "none"
    # A decision is required once measures run past `decision_after_days` (pathway 1).
    required_after_days = "required_after_days"
    # A decision is required; running past the maximum needs a new one (pathway 2).
    required = "required"
    as_needed = "as_needed"


class TaskKind(StrEnum):
    decision_required = "decision_required"
    new_decision_required = "new_decision_required"
    overdue = "overdue"


class Source(StrEnum):
    manual = "manual"
    referral = "referral.received"
    discharge = "person.discharged"


class DateField(StrEnum):
    opened_on = "opened_on"
    closed_on = "closed_on"


@dataclass(frozen=True)
class Template:
    kind: Kind
    name: str
    max_days: int | None = None
    max_months: int | None = None
    decision_rule: DecisionRule = DecisionRule.none
    decision_after_days: int | None = None
    start_checklist: list[str] = field(default_factory=list)
    end_checklist: list[str] = field(default_factory=list)


# Stavanger's model, the default of every municipality until it changes a template.
DEFAULT_TEMPLATES: tuple[Template, ...] = (
    Template(
        Kind.follow_up_call,
        "Pathway 0: no service needed, one follow-up call after coming home",
        max_days=7,
        decision_rule=DecisionRule.none,
        start_checklist=["Agree a time for the follow-up call"],
        end_checklist=["Follow-up call made", "Outcome recorded"],
    ),
    Template(
        Kind.mastery_two_weeks,
        "Pathway 1: mastery expected within 2 weeks",
        max_days=14,
        decision_rule=DecisionRule.required_after_days,
        decision_after_days=14,
        start_checklist=["Goal of mastery agreed with the person", "Measures and end date planned"],
        end_checklist=["Mastery evaluated", "A decision made if measures continue past 14 days"],
    ),
    Template(
        Kind.reablement_two_months,
        "Pathway 2: maximum independence within 2 months",
        max_months=2,
        decision_rule=DecisionRule.required,
        start_checklist=["Decision made", "Goals (what matters to the person) recorded", "Team set up"],
        end_checklist=["Goals evaluated", "A new decision made if services continue"],
    ),
    Template(
        Kind.palliative,
        "Pathway 3: palliative care",
        decision_rule=DecisionRule.as_needed,
        start_checklist=["Palliative plan agreed", "Next of kin informed"],
        end_checklist=["Pathway closed with the reason"],
    ),
)


class TemplateError(ValueError):
    """A template breaks a rule; the message says which."""


def check_template(t: Template) -> None:
    if t.max_days is not None and t.max_months is not None:
        raise TemplateError("Give the maximum duration in days or in months, not both.")
    if (t.max_days is not None and t.max_days < 1) or (t.max_months is not None and t.max_months < 1):
        raise TemplateError("A maximum duration is at least 1.")
    if t.decision_rule == DecisionRule.required_after_days:
        if t.decision_after_days is None or t.decision_after_days < 1:
            raise TemplateError("required_after_days needs decision_after_days of at least 1.")
    elif t.decision_after_days is not None:
        raise TemplateError("decision_after_days belongs only to the rule required_after_days.")
    if t.decision_rule == DecisionRule.required and t.max_days is None and t.max_months is None:
        raise TemplateError("The rule required needs a maximum duration (a new decision is due at its end).")


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def planned_end(t: Template, opened_on: date) -> date | None:
    """The last day of the pathway by its template; None when it has no maximum."""
    if t.max_days is not None:
        return opened_on + timedelta(days=t.max_days)
    if t.max_months is not None:
        return add_months(opened_on, t.max_months)
    return None


def decision_due(t: Template, opened_on: date) -> date | None:
    """The day from which a (new) decision is required if services still run; None: never."""
    if t.decision_rule == DecisionRule.required_after_days and t.decision_after_days is not None:
        return opened_on + timedelta(days=t.decision_after_days)
    if t.decision_rule == DecisionRule.required:
        return planned_end(t, opened_on)
    return None


def decision_task_kind(rule: DecisionRule) -> TaskKind | None:
    if rule == DecisionRule.required_after_days:
        return TaskKind.decision_required
    if rule == DecisionRule.required:
        return TaskKind.new_decision_required
    return None


def covers(decision_date: date, decision_end: date | None, opened_on: date, due: date | None) -> bool:
    """Whether a decision satisfies the pathway's decision requirement: made during the
    pathway and running past the day the requirement starts (open-ended runs past it).
    A short decision that ends by the due day (pathway 1's first two weeks) does not."""
    if due is None or decision_date < opened_on:
        return False
    return decision_end is None or decision_end > due


@dataclass(frozen=True)
class OpenPathway:
    """What the deadline sweep needs to know of an open pathway."""

    kind: Kind
    planned_end: date | None
    decision_due: date | None
    decision_rule: DecisionRule
    has_active_services: bool
    decision_covered: bool


def due_tasks(p: OpenPathway, today: date) -> list[tuple[TaskKind, date]]:
    """The deadline tasks an open pathway has earned by `today`, with their due dates.

    - a decision is required (pathway 1 at day 14, pathway 2 at its end) while services
      run and no decision made in the pathway covers the time after it;
    - any pathway past its planned end is overdue: the forgotten closure.
    """
    out: list[tuple[TaskKind, date]] = []
    task = decision_task_kind(p.decision_rule)
    if (
        task is not None
        and p.decision_due is not None
        and today >= p.decision_due
        and p.has_active_services
        and not p.decision_covered
    ):
        out.append((task, p.decision_due))
    if p.planned_end is not None and today > p.planned_end:
        out.append((TaskKind.overdue, p.planned_end))
    return out


def is_overdue(planned: date | None, today: date) -> bool:
    return planned is not None and today > planned


def masters_outcome(others_running: int) -> Outcome:
    """The outcome of a pathway closed because the person masters daily life: no services
    when no decision but the one being ended runs; reduced when others go on."""
    return Outcome.no_services if others_running <= 0 else Outcome.reduced


class DateError(ValueError):
    """A date breaks a rule (before the referral, in the future, before the opening)."""


def check_opening(opened_on: date, today: date, referral_on: date | None) -> None:
    if opened_on > today:
        raise DateError("A pathway cannot open in the future.")
    if referral_on is not None and opened_on < referral_on:
        raise DateError(f"A pathway cannot open before its referral ({referral_on.isoformat()}).")


def check_correction(
    which: DateField,
    new: date,
    *,
    today: date,
    opened_on: date,
    closed_on: date | None,
    referral_on: date | None,
) -> None:
    """A corrected date stays inside what happened: not in the future, not before the
    referral, the opening not after the closing and the closing not before the opening."""
    if new > today:
        raise DateError("A corrected date cannot be in the future.")
    if referral_on is not None and new < referral_on:
        raise DateError(f"A pathway's dates cannot be before its referral ({referral_on.isoformat()}).")
    if which == DateField.opened_on:
        if closed_on is not None and new > closed_on:
            raise DateError("The opening cannot be after the closing.")
    else:
        if closed_on is None:
            raise DateError("Only a closed pathway has a closing date to correct.")
        if new < opened_on:
            raise DateError("The closing cannot be before the opening.")
