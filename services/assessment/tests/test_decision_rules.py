"""The § 35 detriment rule (forvaltningsloven § 35) as properties: a running decision may
change only in the person's favour; anything that lowers a minimum, a maximum, a frequency or
minutes, removes a measure or a service, narrows an outcome, shortens the period or raises the
co-payment is a detriment and needs a new decision. And the lawful reasons for ending early."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import event, given, settings
from hypothesis import strategies as st

from hjemflyt.assessment.decisions import rules
from hjemflyt.assessment.decisions.rules import (
    DecisionFacts,
    EndReason,
    MeasureFacts,
    Outcome,
    ScopeKind,
    ServiceFacts,
    detriments,
    end_reason_allowed,
)

START = date(2026, 3, 2)
PERS = sorted(rules.PER_MONTH)
DESCRIPTIONS = ["Sårstell", "Medisiner", "Dusj"]  # few, so that measures share a description


@st.composite
def measures(draw: st.DrawFn, *, minutes: bool) -> MeasureFacts:
    description = draw(st.sampled_from(DESCRIPTIONS))
    times = draw(st.integers(1, 6))
    per = draw(st.sampled_from(PERS))
    mins = draw(st.integers(5, 90)) if minutes else draw(st.none() | st.integers(5, 90))
    code = draw(st.none() | st.sampled_from(["m1", "m2"]))
    if code is None:
        return MeasureFacts(description, times, per, mins)
    return MeasureFacts(description, times, per, mins, code=code)


def hours() -> st.SearchStrategy[Decimal]:
    return st.integers(50, 20000).map(lambda n: Decimal(n) / 100)


@st.composite
def services(draw: st.DrawFn, service_type: str) -> ServiceFacts:
    kind = draw(st.sampled_from(list(ScopeKind)))
    outcome = draw(st.sampled_from([Outcome.granted, Outcome.partly_granted]))
    listed = draw(st.lists(measures(minutes=kind == ScopeKind.minutes_per_measure), min_size=1, max_size=4))
    base = ServiceFacts(
        service_type=service_type,
        outcome=outcome,
        scope_kind=kind,
        measures=tuple(listed),
        copayment_ore=draw(st.integers(0, 400000)),
    )
    if kind == ScopeKind.hours_per_month:
        return replace(base, hours_per_month=draw(hours()))
    if kind == ScopeKind.frame:
        low, high = sorted((draw(hours()), draw(hours())))
        return replace(base, frame_min_hours=low, frame_max_hours=high)
    return base


@st.composite
def decisions(draw: st.DrawFn) -> DecisionFacts:
    types = draw(st.lists(st.sampled_from(["home-nursing", "practical-help", "safety-alarm"]), unique=True))
    end = draw(st.none() | st.integers(30, 400).map(lambda d: START + timedelta(days=d)))
    return DecisionFacts(
        organisation_model="trust_model",
        justification="x",
        purpose="x",
        user_goal="x",
        legal_basis=("hol-3-2",),
        start_date=START,
        end_date=end,
        evaluation_date=None,
        services=tuple(draw(services(t)) for t in types),
    )


# --- changes ---------------------------------------------------------------------------


def _service(d: DecisionFacts, i: int, s: ServiceFacts) -> DecisionFacts:
    listed = list(d.services)
    listed[i] = s
    return replace(d, services=tuple(listed))


def _measure(s: ServiceFacts, j: int, m: MeasureFacts) -> ServiceFacts:
    listed = list(s.measures)
    listed[j] = m
    return replace(s, measures=tuple(listed))


@st.composite
def better(draw: st.DrawFn, d: DecisionFacts) -> DecisionFacts:
    """`d` changed strictly in the person's favour, in one or more ways."""
    options = ["end", "start", "service"]
    if d.services:
        options += ["hours", "times", "minutes", "add-measure", "outcome"]
    changed = d
    for what in draw(st.lists(st.sampled_from(options), min_size=1, max_size=4)):
        if what == "end":
            if changed.end_date is None:  # already indefinite: start a day earlier instead
                assert changed.start_date is not None
                changed = replace(changed, start_date=changed.start_date - timedelta(days=1))
            else:
                later = changed.end_date + timedelta(days=draw(st.integers(1, 90)))
                changed = replace(changed, end_date=draw(st.sampled_from([None, later])))
        elif what == "start":
            changed = replace(changed, start_date=START - timedelta(days=draw(st.integers(1, 30))))
        elif what == "service":
            missing = [
                t for t in ("meals", "day-care") if t not in {s.service_type for s in changed.services}
            ]
            if missing:
                changed = replace(changed, services=(*changed.services, draw(services(missing[0]))))
            else:
                changed = replace(changed, start_date=START - timedelta(days=1))
            continue
        else:
            i = draw(st.integers(0, len(changed.services) - 1))
            s = changed.services[i]
            up = Decimal(draw(st.integers(1, 5000))) / 100
            if what == "hours":
                if s.scope_kind == ScopeKind.hours_per_month:
                    s = replace(s, hours_per_month=(s.hours_per_month or 0) + up)
                elif s.scope_kind == ScopeKind.frame:
                    low = (s.frame_min_hours or 0) + up * draw(st.sampled_from([0, 1]))
                    s = replace(s, frame_min_hours=low, frame_max_hours=max(low, s.frame_max_hours or 0) + up)
                else:
                    j = draw(st.integers(0, len(s.measures) - 1))
                    s = _measure(s, j, replace(s.measures[j], times=s.measures[j].times + 1))
            elif what == "times":
                j = draw(st.integers(0, len(s.measures) - 1))
                s = _measure(
                    s, j, replace(s.measures[j], times=s.measures[j].times + draw(st.integers(1, 3)))
                )
            elif what == "minutes":
                j = draw(st.integers(0, len(s.measures) - 1))
                m = s.measures[j]
                if m.minutes is None:
                    s = _measure(s, j, replace(m, times=m.times + 1))
                else:
                    s = _measure(s, j, replace(m, minutes=m.minutes + draw(st.integers(1, 30))))
            elif what == "add-measure":
                s = replace(
                    s,
                    measures=(
                        *s.measures,
                        draw(measures(minutes=s.scope_kind == ScopeKind.minutes_per_measure)),
                    ),
                )
            elif what == "outcome":
                if s.outcome == Outcome.partly_granted:
                    s = replace(s, outcome=Outcome.granted)
                else:
                    s = replace(
                        s,
                        measures=(
                            *s.measures,
                            draw(measures(minutes=s.scope_kind == ScopeKind.minutes_per_measure)),
                        ),
                    )
            changed = _service(changed, i, s)
    return changed


@st.composite
def worse(draw: st.DrawFn, d: DecisionFacts) -> tuple[DecisionFacts, str]:
    """`d` changed in exactly one way to the person's detriment, and which."""
    options = ["later-start", "earlier-end"]
    if d.services:
        options += ["minimum", "maximum", "times", "minutes", "remove-measure", "remove-service"]
        options += ["refuse", "copayment", "narrower"]
    what = draw(st.sampled_from(options))
    if what == "later-start":
        return replace(d, start_date=START + timedelta(days=draw(st.integers(1, 20)))), what
    if what == "earlier-end":
        if d.end_date is None:
            return replace(d, end_date=START + timedelta(days=draw(st.integers(1, 400)))), what
        return replace(d, end_date=d.end_date - timedelta(days=draw(st.integers(1, 29)))), what
    i = draw(st.integers(0, len(d.services) - 1))
    s = d.services[i]
    if what == "remove-service":
        return replace(d, services=d.services[:i] + d.services[i + 1 :]), what
    if what == "refuse":
        return _service(d, i, replace(s, outcome=Outcome.refused, refusal_reason="x")), what
    if what == "copayment":
        return _service(
            d, i, replace(s, copayment_ore=(s.copayment_ore or 0) + draw(st.integers(1, 1000)))
        ), what
    if what == "narrower":
        narrowed = Outcome.partly_granted if s.outcome == Outcome.granted else Outcome.granted
        if narrowed == Outcome.granted:  # already partly granted: remove a measure instead
            return _service(d, i, replace(s, measures=s.measures[1:])), what
        return _service(d, i, replace(s, outcome=narrowed)), what
    if what == "remove-measure":
        j = draw(st.integers(0, len(s.measures) - 1))
        return _service(d, i, replace(s, measures=s.measures[:j] + s.measures[j + 1 :])), what
    if what in ("times", "minutes"):
        candidates = [
            j
            for j, m in enumerate(s.measures)
            if (m.times > 1 if what == "times" else m.minutes is not None and m.minutes > 1)
        ]
        if not candidates:  # nothing to lower: remove the first measure instead
            return _service(d, i, replace(s, measures=s.measures[1:])), what
        j = draw(st.sampled_from(candidates))
        m = s.measures[j]
        lowered = (
            replace(m, times=m.times - 1) if what == "times" else replace(m, minutes=(m.minutes or 0) - 1)
        )
        return _service(d, i, _measure(s, j, lowered)), what
    down = Decimal(draw(st.integers(1, 40))) / 100
    if s.scope_kind == ScopeKind.hours_per_month:
        return _service(d, i, replace(s, hours_per_month=(s.hours_per_month or 0) - down)), what
    if s.scope_kind == ScopeKind.frame:
        low, high = s.frame_min_hours or Decimal(0), s.frame_max_hours or Decimal(0)
        if what == "minimum":
            return _service(d, i, replace(s, frame_min_hours=low - down)), what
        return _service(
            d, i, replace(s, frame_max_hours=high - down, frame_min_hours=min(low, high - down))
        ), what
    # minutes per measure: the measures' hours are both bounds; fewer visits lower them.
    j = draw(st.integers(0, len(s.measures) - 1))
    m = s.measures[j]
    if m.times > 1:
        return _service(d, i, _measure(s, j, replace(m, times=m.times - 1))), what
    return _service(d, i, replace(s, measures=s.measures[:j] + s.measures[j + 1 :])), what


# --- properties --------------------------------------------------------------------------


@settings(deadline=None)  # the machine is shared: time per example varies
@given(decisions())
def test_no_change_is_no_detriment(d):
    assert detriments(d, d) == []


@settings(deadline=None)  # the machine is shared: time per example varies
@given(st.data())
def test_a_change_in_the_persons_favour_is_no_detriment(data):
    d = data.draw(decisions())
    assert detriments(d, data.draw(better(d))) == []


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_any_single_reduction_is_a_detriment(data):
    d = data.draw(decisions())
    changed, what = data.draw(worse(d))
    kinds = {s.scope_kind for s in d.services}
    event(f"{what} {sorted(kinds)}")
    assert detriments(d, changed), what


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_going_back_from_a_strictly_better_decision_is_a_detriment(data):
    a = data.draw(decisions())
    b = data.draw(better(a))
    assert detriments(a, b) == []
    assert detriments(b, a) != []


@settings(deadline=None)  # the machine is shared: time per example varies
@given(decisions(), st.permutations(range(4)))
def test_the_order_of_measures_does_not_matter(d, order):
    shuffled = tuple(
        replace(s, measures=tuple(s.measures[k] for k in order if k < len(s.measures))) for s in d.services
    )
    assert detriments(d, replace(d, services=shuffled)) == []


# --- examples ---------------------------------------------------------------------------


def _hours(h: str, *measures_: MeasureFacts) -> ServiceFacts:
    return ServiceFacts(
        "home-nursing",
        Outcome.granted,
        ScopeKind.hours_per_month,
        hours_per_month=Decimal(h),
        measures=measures_ or (MeasureFacts("Sårstell", 3, "week"),),
    )


def _frame(low: str, high: str) -> ServiceFacts:
    return replace(
        _hours("0"),
        scope_kind=ScopeKind.frame,
        hours_per_month=Decimal(high),
        frame_min_hours=Decimal(low),
        frame_max_hours=Decimal(high),
    )


def _decision(*services_: ServiceFacts, end: date | None = None) -> DecisionFacts:
    return DecisionFacts("trust_model", "x", "x", "x", ("hol-3-2",), START, end, None, services_)


def test_a_fixed_20_hours_turned_into_a_frame_from_half_an_hour_is_a_detriment():
    found = detriments(_decision(_hours("20")), _decision(_frame("0.5", "20")))
    assert any("scope_kind hours_per_month → frame" in f for f in found), found
    assert any("minimum hours is lower" in f for f in found), found
    assert detriments(_decision(_hours("20")), _decision(_frame("20", "30"))) == []
    assert detriments(_decision(_frame("10", "20")), _decision(_hours("20"))) == []
    assert detriments(_decision(_frame("10", "20")), _decision(_hours("15")))


def test_measures_match_by_code_when_both_have_one_else_by_description():
    old = MeasureFacts("Sårstell", 3, "week", code="m1")
    renamed = MeasureFacts("Sårstell, legg", 3, "week", code="m1")
    assert detriments(_decision(_hours("20", old)), _decision(_hours("20", renamed))) == []
    other = MeasureFacts("Sårstell", 3, "week", code="m2")
    found = detriments(_decision(_hours("20", old)), _decision(_hours("20", other)))
    assert found == ["services[home-nursing].measure 'Sårstell' is removed"]
    plain = MeasureFacts("sårstell ", 3, "week")  # no code on one side: by description
    assert detriments(_decision(_hours("20", old)), _decision(_hours("20", plain))) == []


def test_frequency_is_compared_per_month_and_every_loss_is_named():
    old = MeasureFacts("Dusj", 2, "week", 30)
    assert (
        detriments(
            _decision(_hours("20", old)), _decision(_hours("20", MeasureFacts("Dusj", 9, "month", 30)))
        )
        == []
    )
    found = detriments(
        _decision(_hours("20", old)), _decision(_hours("20", MeasureFacts("Dusj", 1, "week", 20)))
    )
    assert found == [
        "services[home-nursing].measure 'Dusj' is less frequent",
        "services[home-nursing].measure 'Dusj' has fewer minutes",
    ]


def test_a_higher_copayment_is_a_detriment():
    before = _decision(replace(_hours("20"), copayment_ore=10000))
    found = detriments(before, _decision(replace(_hours("20"), copayment_ore=12000)))
    assert found == ["services[home-nursing].copayment is higher (10000 → 12000 øre a month)"]
    assert detriments(before, _decision(replace(_hours("20"), copayment_ore=9000))) == []
    assert detriments(before, _decision(_hours("20"))) == []  # not priced: not compared


# --- ending early -------------------------------------------------------------------------


@settings(deadline=None)  # the machine is shared: time per example varies
@given(
    st.sampled_from(list(EndReason)),
    st.integers(-60, 60),
    st.none() | st.integers(0, 400).map(lambda d: START + timedelta(days=d)),
)
def test_ending_early_needs_a_reason_the_law_allows(reason, offset, decided_end):
    end_date = (decided_end or START + timedelta(days=100)) + timedelta(days=offset)
    allowed = end_reason_allowed(reason, end_date, decided_end)
    if reason == EndReason.expired:
        assert not allowed  # the sweep's own reason
    elif reason in rules.EARLY_END_REASONS:
        assert allowed
    else:  # ended: only on or after the decision's own end date
        assert allowed == (decided_end is not None and end_date >= decided_end)
