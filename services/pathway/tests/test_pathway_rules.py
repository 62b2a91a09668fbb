"""Pure pathway rules: template durations (month arithmetic), decision deadlines, which
deadline tasks are due, outcomes and date checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hjemflyt.pathway.pathways import rules
from hjemflyt.pathway.pathways.rules import (
    DEFAULT_TEMPLATES,
    DateField,
    DecisionRule,
    Kind,
    OpenPathway,
    Outcome,
    TaskKind,
    Template,
)

DEFAULTS = {t.kind: t for t in DEFAULT_TEMPLATES}


def test_the_default_templates_are_stavangers_model() -> None:
    assert sorted(DEFAULTS) == [0, 1, 2, 3]
    assert DEFAULTS[Kind.mastery_two_weeks].max_days == 14
    assert DEFAULTS[Kind.mastery_two_weeks].decision_rule == DecisionRule.required_after_days
    assert DEFAULTS[Kind.reablement_two_months].max_months == 2
    assert DEFAULTS[Kind.reablement_two_months].decision_rule == DecisionRule.required
    assert DEFAULTS[Kind.palliative].decision_rule == DecisionRule.as_needed
    assert DEFAULTS[Kind.follow_up_call].decision_rule == DecisionRule.none
    for t in DEFAULT_TEMPLATES:
        rules.check_template(t)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2026, 3, 31), 2, date(2026, 5, 31)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 5, 1), 12, date(2027, 5, 1)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_months_last(day: date, months: int, expected: date) -> None:
    assert rules.add_months(day, months) == expected


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(1, 36))
def test_add_months_lands_in_the_right_month_never_past_it(day: date, months: int) -> None:
    out = rules.add_months(day, months)
    assert (out.year * 12 + out.month) - (day.year * 12 + day.month) == months
    assert out.day <= day.day
    assert out > day


def test_planned_end_and_decision_deadline_follow_the_template() -> None:
    opened = date(2026, 12, 31)
    assert rules.planned_end(DEFAULTS[Kind.mastery_two_weeks], opened) == date(2027, 1, 14)
    assert rules.decision_due(DEFAULTS[Kind.mastery_two_weeks], opened) == date(2027, 1, 14)
    assert rules.planned_end(DEFAULTS[Kind.reablement_two_months], opened) == date(2027, 2, 28)
    assert rules.decision_due(DEFAULTS[Kind.reablement_two_months], opened) == date(2027, 2, 28)
    assert rules.planned_end(DEFAULTS[Kind.palliative], opened) is None
    assert rules.decision_due(DEFAULTS[Kind.palliative], opened) is None
    assert rules.decision_due(DEFAULTS[Kind.follow_up_call], opened) is None
    assert rules.planned_end(DEFAULTS[Kind.follow_up_call], opened) == date(2027, 1, 7)


@pytest.mark.parametrize(
    "template",
    [
        Template(Kind.follow_up_call, "x", max_days=3, max_months=1),
        Template(Kind.follow_up_call, "x", max_days=0),
        Template(Kind.mastery_two_weeks, "x", max_days=14, decision_rule=DecisionRule.required_after_days),
        Template(Kind.mastery_two_weeks, "x", max_days=14, decision_after_days=3),
        Template(Kind.reablement_two_months, "x", decision_rule=DecisionRule.required),
    ],
)
def test_bad_templates_are_refused(template: Template) -> None:
    with pytest.raises(rules.TemplateError):
        rules.check_template(template)


def _p1(**kw: object) -> OpenPathway:
    values: dict[str, object] = {
        "kind": Kind.mastery_two_weeks,
        "planned_end": date(2026, 11, 15),
        "decision_due": date(2026, 11, 15),
        "decision_rule": DecisionRule.required_after_days,
        "has_active_services": True,
        "decision_covered": False,
    }
    values.update(kw)
    return OpenPathway(**values)  # type: ignore[arg-type]


def test_pathway_1_at_day_14_with_services_needs_a_decision_and_is_overdue_the_day_after() -> None:
    assert rules.due_tasks(_p1(), date(2026, 11, 14)) == []
    assert rules.due_tasks(_p1(), date(2026, 11, 15)) == [(TaskKind.decision_required, date(2026, 11, 15))]
    assert rules.due_tasks(_p1(), date(2026, 11, 16)) == [
        (TaskKind.decision_required, date(2026, 11, 15)),
        (TaskKind.overdue, date(2026, 11, 15)),
    ]


def test_no_decision_task_without_services_or_with_a_covering_decision() -> None:
    assert rules.due_tasks(_p1(has_active_services=False), date(2026, 11, 15)) == []
    assert rules.due_tasks(_p1(decision_covered=True), date(2026, 11, 15)) == []
    # The forgotten closure is flagged whatever the services.
    assert rules.due_tasks(_p1(has_active_services=False), date(2026, 11, 16)) == [
        (TaskKind.overdue, date(2026, 11, 15))
    ]


def test_pathway_2_at_two_months_needs_a_new_decision() -> None:
    p = OpenPathway(
        kind=Kind.reablement_two_months,
        planned_end=date(2027, 1, 15),
        decision_due=date(2027, 1, 15),
        decision_rule=DecisionRule.required,
        has_active_services=True,
        decision_covered=False,
    )
    assert rules.due_tasks(p, date(2027, 1, 14)) == []
    assert rules.due_tasks(p, date(2027, 1, 15)) == [(TaskKind.new_decision_required, date(2027, 1, 15))]


def test_palliative_care_has_no_deadline() -> None:
    p = OpenPathway(Kind.palliative, None, None, DecisionRule.as_needed, True, False)
    assert rules.due_tasks(p, date(2030, 1, 1)) == []


def test_a_decision_covers_only_if_made_in_the_pathway_and_running_past_the_deadline() -> None:
    opened, due = date(2026, 11, 1), date(2026, 11, 15)
    assert rules.covers(date(2026, 11, 10), None, opened, due)
    assert rules.covers(date(2026, 11, 10), date(2026, 12, 31), opened, due)
    assert not rules.covers(date(2026, 11, 10), date(2026, 11, 15), opened, due)  # short-term
    assert not rules.covers(date(2026, 10, 1), None, opened, due)  # from before the pathway
    assert not rules.covers(date(2026, 11, 10), None, opened, None)


def test_masters_daily_life_outcome() -> None:
    assert rules.masters_outcome(0) == Outcome.no_services
    assert rules.masters_outcome(-1) == Outcome.no_services
    assert rules.masters_outcome(1) == Outcome.reduced


def test_opening_dates() -> None:
    today = date(2026, 11, 20)
    rules.check_opening(today, today, date(2026, 11, 1))
    rules.check_opening(date(2026, 11, 1), today, date(2026, 11, 1))
    with pytest.raises(rules.DateError, match="before its referral"):
        rules.check_opening(date(2026, 10, 31), today, date(2026, 11, 1))
    with pytest.raises(rules.DateError, match="future"):
        rules.check_opening(today + timedelta(days=1), today, None)


def test_corrections_stay_inside_what_happened() -> None:
    kw = {"today": date(2026, 11, 20), "opened_on": date(2026, 11, 5), "referral_on": date(2026, 11, 1)}
    rules.check_correction(DateField.closed_on, date(2026, 11, 10), closed_on=date(2026, 11, 20), **kw)  # type: ignore[arg-type]
    rules.check_correction(DateField.opened_on, date(2026, 11, 2), closed_on=None, **kw)  # type: ignore[arg-type]
    for field, new, closed in [
        (DateField.closed_on, date(2026, 11, 4), date(2026, 11, 20)),  # before the opening
        (DateField.opened_on, date(2026, 10, 31), None),  # before the referral
        (DateField.opened_on, date(2026, 11, 21), None),  # future
        (DateField.opened_on, date(2026, 11, 15), date(2026, 11, 10)),  # after the closing
        (DateField.closed_on, date(2026, 11, 10), None),  # not closed
    ]:
        with pytest.raises(rules.DateError):
            rules.check_correction(field, new, closed_on=closed, **kw)  # type: ignore[arg-type]
