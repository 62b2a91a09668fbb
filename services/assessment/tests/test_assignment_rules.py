"""Pure rules of pathway assignments: 14 days at most (both ends included), not far back,
an approved provider for the service and district, at least one measure."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hjemflyt.assessment.assignments import rules
from hjemflyt.assessment.decisions.rules import MeasureFacts

TODAY = date(2026, 3, 2)
PROVIDER = "320000009"
CATALOGUE = rules.CatalogueFacts(
    service_types={"home-nursing": "15", "practical-help": "1", "meals": "9"},
    providers={PROVIDER: (frozenset({"15", "1"}), frozenset({"frogner"}))},
    measures={"wound-care": "home-nursing", "shower": None},
)
WOUND = MeasureFacts("Sårstell", 3, "week", 20)


def facts(
    *,
    start: date = TODAY,
    days: int = 14,
    provider: str = PROVIDER,
    district: str = "frogner",
    services: list[rules.ServiceFacts] | None = None,
) -> rules.AssignmentFacts:
    return rules.AssignmentFacts(
        provider_org=provider,
        district=district,
        start_date=start,
        end_date=start + timedelta(days=days - 1),
        services=services if services is not None else [rules.ServiceFacts("home-nursing", (WOUND,))],
    )


def broken(a: rules.AssignmentFacts, today: date = TODAY) -> list[str]:
    return sorted(v.rule for v in rules.check(a, CATALOGUE, today))


def test_fourteen_days_both_ends_included_is_the_most_without_a_decision():
    assert broken(facts(days=14)) == []
    assert broken(facts(days=1)) == []
    assert broken(facts(days=15)) == ["assignment-too-long"]
    assert rules.last_allowed_day(TODAY) == TODAY + timedelta(days=13)


def test_the_end_before_the_start_is_refused_not_counted_as_short():
    assert broken(facts(days=0)) == ["end-before-start"]


def test_a_start_a_few_days_back_is_allowed_further_back_is_not():
    assert broken(facts(start=TODAY - timedelta(days=rules.MAX_DAYS_BACK))) == []
    assert broken(facts(start=TODAY - timedelta(days=rules.MAX_DAYS_BACK + 1))) == ["start-too-far-back"]
    assert broken(facts(start=TODAY + timedelta(days=10))) == []


def test_the_provider_must_be_approved_for_the_service_and_the_district():
    assert broken(facts(provider="974760673")) == ["unknown-provider"]
    assert broken(facts(district="grorud")) == ["provider-not-approved-for-district"]
    meals = [rules.ServiceFacts("meals", (WOUND,))]
    assert broken(facts(services=meals)) == ["provider-not-approved-for-service"]
    assert broken(facts(services=[rules.ServiceFacts("dance", (WOUND,))])) == ["unknown-service"]


def test_each_service_needs_a_measure_and_there_is_a_service():
    assert broken(facts(services=[])) == ["no-services"]
    assert broken(facts(services=[rules.ServiceFacts("home-nursing", ())])) == ["measures-missing"]
    bad = MeasureFacts(" ", 1, "week")
    assert broken(facts(services=[rules.ServiceFacts("home-nursing", (bad,))])) == ["measure-incomplete"]
    twice = [rules.ServiceFacts("home-nursing", (WOUND,))] * 2
    assert broken(facts(services=twice)) == ["duplicate-service"]


def test_a_measure_code_must_be_known_and_for_the_service():
    def coded(service_type: str, code: str) -> list[rules.ServiceFacts]:
        return [rules.ServiceFacts(service_type, (MeasureFacts("Sårstell", 1, "day", None, code),))]

    assert broken(facts(services=coded("home-nursing", "wound-care"))) == []
    assert broken(facts(services=coded("practical-help", "shower"))) == []  # for any service
    assert broken(facts(services=coded("home-nursing", "no-such"))) == ["unknown-measure-code"]
    assert broken(facts(services=coded("practical-help", "wound-care"))) == ["measure-not-for-service"]


def test_all_broken_rules_at_once_and_the_slug():
    found = rules.check(facts(days=20, provider="974760673", services=[]), CATALOGUE, TODAY)
    assert sorted(v.rule for v in found) == ["assignment-too-long", "no-services", "unknown-provider"]
    assert rules.refusal_slug(found) == "assignment-invalid"
    assert rules.refusal_slug(rules.check(facts(days=15), CATALOGUE, TODAY)) == "assignment-too-long"


def test_hours_per_month_from_minutes_where_given_else_zero():
    # 3 x 20 min a week: 60 min x 4.348214 weeks = 4.35 h a month
    assert rules.hours_per_month([WOUND]) == Decimal("4.35")
    assert rules.hours_per_month([MeasureFacts("Oppfølging av medisiner", 1, "day")]) == Decimal("0.00")


def test_an_issued_assignment_past_its_end_has_expired():
    end = TODAY + timedelta(days=13)
    assert rules.effective_status(rules.Status.issued, end, end) == rules.Status.issued
    assert rules.effective_status(rules.Status.issued, end, end + timedelta(days=1)) == rules.Status.expired
    assert rules.effective_status(rules.Status.ended, end, end + timedelta(days=1)) == rules.Status.ended


def test_ending_early_stays_within_the_assignment():
    end = TODAY + timedelta(days=13)
    assert rules.check_end(TODAY, end, TODAY) is None
    assert rules.check_end(TODAY, end, TODAY - timedelta(days=1)) is None  # before it began
    problem = rules.check_end(TODAY, end, TODAY - timedelta(days=2))
    assert problem is not None
    assert problem.rule == "end-before-start"
    problem = rules.check_end(TODAY, end, end + timedelta(days=1))
    assert problem is not None
    assert problem.rule == "end-after-assignment"


def test_a_decision_supersedes_from_the_day_before_it_starts():
    end = TODAY + timedelta(days=13)
    assert rules.superseded_end(TODAY, end, TODAY + timedelta(days=7), TODAY) == TODAY + timedelta(days=6)
    assert rules.superseded_end(TODAY, end, TODAY + timedelta(days=30), TODAY) == end
    assert rules.superseded_end(TODAY, end, TODAY - timedelta(days=5), TODAY) == TODAY - timedelta(days=1)
    assert rules.superseded_end(TODAY, end, None, TODAY + timedelta(days=2)) == TODAY + timedelta(days=1)
