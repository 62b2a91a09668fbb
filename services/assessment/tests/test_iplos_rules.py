"""The IPLOS report as pure rules (iplos/rules.py) and its files (iplos/register.py): persons,
function periods, services with hours per week = monthly hours / 4, dates, the completeness
report, the content file valid against the IPLOS 2018 schema, the identity file apart.
No IO: plain facts in, records and bytes out."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from defusedxml import ElementTree as ET

from hjemflyt.assessment.iplos import register, rules
from hjemflyt.shared.contracts import iplos as codes
from hjemflyt.shared.identity import parse_identity_number, synthetic_identity_numbers

YEAR = 2026
SENDER = rules.Sender(
    municipality="0301",
    contacts=(
        rules.Contact("1", "Innsender", "21 80 21 80", "innsender@example.invalid"),
        rules.Contact("2", "IPLOS-kontakt", "21 80 21 81", "iplos@example.invalid"),
    ),
)
NS = {"ipl": register.NS}
# Test-only register codes (the real ones are not in the code list: see contracts/iplos.py).
CODES = {key: i for i, key in enumerate(codes.V2018.keys, start=1)}
FULL = dict.fromkeys(codes.V2018.keys, 3)


def _uuid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def _person(
    n: int, number: str, district: str = "gamle-oslo", died_on: date | None = None
) -> rules.PersonFacts:
    return rules.PersonFacts(_uuid(n), number, district, died_on)


def _decision(
    n: int,
    person: int,
    services: tuple[rules.ServiceFacts, ...],
    *,
    decided: date | None = date(YEAR, 2, 1),
    start: date | None = date(YEAR, 2, 3),
    end: date | None = None,
    status: str = "active",
    applied: date | None = date(YEAR, 1, 10),
) -> rules.DecisionFacts:
    return rules.DecisionFacts(_uuid(1000 + n), _uuid(person), status, decided, start, end, services, applied)


def _svc(code: str, hours: str | None, outcome: str = "granted", kind: str = "t") -> rules.ServiceFacts:
    return rules.ServiceFacts(f"{kind}{code}", code, outcome, Decimal(hours) if hours is not None else None)


NUMBERS = list(
    synthetic_identity_numbers(10, seed=13, born_from=date(1930, 1, 1), born_to=date(1960, 12, 31))
)


def test_hours_per_week_is_monthly_hours_divided_by_four_to_two_decimals():
    assert rules.hours_per_week(Decimal("40")) == Decimal("10.00")
    assert rules.hours_per_week(Decimal("10.5")) == Decimal("2.63")
    assert rules.hours_per_week(Decimal("0.3")) == Decimal("0.08")


def test_gender_is_read_from_the_individual_number():
    for n in NUMBERS:
        parsed = parse_identity_number(n)
        assert rules.gender_of(n) == ("M" if int(parsed.value[8]) % 2 else "K")


def test_function_periods_run_to_the_day_before_the_next_assessment_or_the_years_end():
    a0 = rules.AssessmentFacts(_uuid(1), date(YEAR - 1, 6, 1), FULL)
    a1 = rules.AssessmentFacts(_uuid(1), date(YEAR, 4, 10), FULL)
    a2 = rules.AssessmentFacts(_uuid(1), date(YEAR + 1, 1, 5), FULL)  # after the year: not counted
    periods = rules.function_periods([a2, a1, a0], date(YEAR, 1, 1), date(YEAR, 12, 31))
    assert [(a.scored_on, f, t) for a, f, t in periods] == [
        (a0.scored_on, date(YEAR, 1, 1), date(YEAR, 4, 9)),
        (a1.scored_on, date(YEAR, 4, 10), date(YEAR, 12, 31)),
    ]
    old = rules.AssessmentFacts(_uuid(1), date(YEAR - 2, 1, 1), FULL)
    assert [a for a, _, _ in rules.function_periods([old, a0, a1], date(YEAR, 1, 1), date(YEAR, 12, 31))] == [
        a0,
        a1,
    ]


def test_the_report_holds_persons_scores_services_and_dates():
    persons = [_person(1, NUMBERS[0]), _person(2, NUMBERS[1], "frogner", died_on=date(YEAR, 9, 1))]
    assessments = [
        rules.AssessmentFacts(_uuid(1), date(YEAR, 1, 20), FULL),
        rules.AssessmentFacts(_uuid(2), date(YEAR - 1, 11, 2), FULL),
    ]
    decisions = [
        _decision(1, 1, (_svc("15", "30"), _svc("1", "10.5"), _svc("6", None), _svc("5", "8", "refused"))),
        _decision(2, 2, (_svc("15", "60"),), decided=date(YEAR - 1, 12, 1), start=date(YEAR - 1, 12, 2)),
        _decision(3, 2, (_svc("15", "80"),), decided=date(YEAR, 5, 2), start=date(YEAR, 5, 3),
                  end=date(YEAR, 9, 1)),
        # ended before the year: not reported
        _decision(4, 2, (_svc("1", "4"),), decided=date(YEAR - 2, 1, 1), start=date(YEAR - 2, 1, 2),
                  end=date(YEAR - 1, 6, 30)),
        # a draft: not reported
        _decision(5, 1, (_svc("2", "4"),), status="draft"),
    ]  # fmt: skip
    appeals = [rules.AppealFacts(_uuid(1003), date(YEAR, 5, 20), date(YEAR, 6, 15))]
    report = rules.build_report(YEAR, SENDER, persons, assessments, decisions, appeals, register_codes=CODES)

    assert report.problems == ()
    assert [p.person_id for p in report.persons] == [_uuid(1), _uuid(2)]
    p1, p2 = report.persons
    birth = parse_identity_number(NUMBERS[0]).birth_date
    assert birth is not None
    assert p1.age == YEAR - birth.year  # age on 31 December
    assert (p1.municipality, p1.district_number, p2.district_number) == ("0301", "01", "05")
    assert [(s.service_code, s.hours_per_week) for s in p1.services] == [
        (15, Decimal("7.50")),
        (1, Decimal("2.63")),
        (6, None),
    ]
    assert p1.from_date == date(YEAR, 2, 3)
    assert p1.services[0].application_date == date(YEAR, 1, 10)
    assert p1.services[0].decision_date == date(YEAR, 2, 1)
    assert len(p1.functions) == len(FULL)
    assert {(f.from_date, f.to_date) for f in p1.functions} == {(date(YEAR, 1, 20), date(YEAR, 12, 31))}
    # person 2: two decisions in the series, the second appealed and ended by death
    assert [(s.decision_number, s.hours_per_week, s.to_date) for s in p2.services] == [
        (2, Decimal("15.00"), None),
        (3, Decimal("20.00"), date(YEAR, 9, 1)),
    ]
    assert (p2.services[1].appeal_received, p2.services[1].appeal_answered) == (
        date(YEAR, 5, 20),
        date(YEAR, 6, 15),
    )
    assert p2.died_on == date(YEAR, 9, 1)
    assert p2.changed_on == date(YEAR, 9, 1)
    assert p2.from_date == date(YEAR - 1, 12, 2)
    assert {f.from_date for f in p2.functions} == {date(YEAR, 1, 1)}  # scored before the year
    assert report.service_count == 5
    assert report.hours_per_week == Decimal("7.50") + Decimal("2.63") + Decimal("15.00") + Decimal("20.00")


def test_the_completeness_report_lists_what_would_be_rejected_per_person():
    persons = [
        _person(1, NUMBERS[0]),  # no scores at all
        _person(2, NUMBERS[1]),  # practical help without hours; incomplete scores
        _person(3, NUMBERS[2], "atlantis"),  # a district without a register number
        _person(4, NUMBERS[3]),  # a decision without a decision date; a non-numeric code
        _person(5, NUMBERS[4]),  # no granted service this year: not a recipient, no problem
    ]
    partial = {k: 2 for k in list(codes.V2018.keys)[:5]}
    assessments = [
        rules.AssessmentFacts(_uuid(2), date(YEAR, 1, 5), partial),
        rules.AssessmentFacts(_uuid(3), date(YEAR, 1, 5), FULL),
        rules.AssessmentFacts(_uuid(4), date(YEAR, 1, 5), FULL),
    ]
    decisions = [
        _decision(1, 1, (_svc("15", "12"),)),
        _decision(2, 2, (_svc("1", None), _svc("15", "800"))),
        _decision(3, 3, (_svc("15", "12"),)),
        _decision(4, 4, (_svc("15", "12"),), decided=None),
        _decision(5, 4, (_svc("x", "12"),)),
        _decision(6, 5, (_svc("15", "12", "refused"),)),
    ]
    report = rules.build_report(YEAR, SENDER, persons, assessments, decisions)
    by = {k: sorted(p.rule.value for p in v) for k, v in report.problems_by_person().items()}
    assert by == {
        _uuid(1): ["person-without-scores"],
        _uuid(2): ["hours-over-limit", "incomplete-scores", "service-without-hours"],
        _uuid(3): ["district-without-number"],
        _uuid(4): ["decision-without-date", "service-code-invalid"],
        None: ["function-codes-missing"],  # no register codes in the code list: not guessed
    }
    # left out: person 3 (no district number) and person 4's two services; the rest are written
    assert [p.person_id for p in report.persons] == [_uuid(1), _uuid(2), _uuid(4)]
    assert report.persons[2].services == ()
    assert all(p.functions == () for p in report.persons)  # no register codes, no FUNKSJON
    assert {p.rule for p in report.problems if p.left_out} == {
        rules.Rule.district_without_number,
        rules.Rule.decision_without_date,
        rules.Rule.service_code_invalid,
        rules.Rule.hours_over_limit,
    }
    # person 2 keeps the service without hours; the one over 168 hours a week is left out
    assert [(s.service_code, s.hours_per_week) for s in report.persons[1].services] == [(1, None)]
    # what is written still validates: the register refuses records, not the whole file
    assert register.schema_errors(_files(report)[0]) == []


def _files(report: rules.Report) -> tuple[bytes, bytes]:
    made = date(YEAR + 1, 1, 5)
    return (
        register.content_file(report, SENDER, made_on=made, serial="1"),
        register.identity_file(report, SENDER, made_on=made, serial="1"),
    )


@pytest.mark.parametrize("with_codes", [True, False])
def test_the_content_file_validates_and_the_identity_numbers_are_only_in_the_identity_file(with_codes):
    persons = [_person(i, n) for i, n in enumerate(NUMBERS[:4], start=1)]
    assessments = [rules.AssessmentFacts(_uuid(i), date(YEAR, 3, i), FULL) for i in range(1, 5)]
    decisions = [
        _decision(
            i, i, (_svc("15", str(10 * i)), _svc("6", None)), applied=None if i == 2 else date(YEAR, 1, 2)
        )
        for i in range(1, 5)
    ]
    appeals = [rules.AppealFacts(_uuid(1001), date(YEAR, 3, 1), None)]
    report = rules.build_report(
        YEAR, SENDER, persons, assessments, decisions, appeals, register_codes=CODES if with_codes else None
    )
    content, identity = _files(report)
    assert register.schema_errors(content) == []
    for n in NUMBERS[:4]:
        assert n.encode() not in content
        assert n.encode() in identity
    root = ET.fromstring(content)
    assert len(root.findall("ipl:PERSON", NS)) == 4
    assert len(root.findall("ipl:PERSON/ipl:FUNKSJON", NS)) == (4 * len(FULL) if with_codes else 0)
    hours = [Decimal(e.text or "") for e in root.findall("ipl:PERSON/ipl:TJENESTE/ipl:tjTimerUke", NS)]
    assert hours == [Decimal(10 * i) / 4 for i in range(1, 5)]
    # the identity file links by the same keys and delivery number
    ident = ET.fromstring(identity)
    keys = {p.get("pePeID"): p.findtext(f"{{{register.IDENT_NS}}}peFnr") for p in ident}
    keys.pop(None, None)
    assert keys == {str(p.key): p.identity_number for p in report.persons}
    assert root.findtext("ipl:INNHINFO/ipl:iiLopenr", namespaces=NS) == "1"
    assert ident.findtext(f"{{{register.IDENT_NS}}}INNHINFO/{{{register.IDENT_NS}}}iiLopenr") == "1"


def test_a_broken_file_fails_the_schema():
    persons = [_person(1, NUMBERS[0])]
    decisions = [_decision(1, 1, (_svc("15", "10"),))]
    content, _ = _files(rules.build_report(YEAR, SENDER, persons, [], decisions))
    broken = content.replace(b"<ipl:peKjonn>", b"<ipl:peKjonn>X")
    assert register.schema_errors(broken)


def test_a_record_that_fails_the_schema_is_traced_to_its_person_and_refused_as_data():
    """A service code the rules take (a number) but the schema does not (xs:short): the file is
    not handed out; the answer names the person and the element, never the value."""
    from hjemflyt.assessment.iplos import service

    persons = [_person(1, NUMBERS[0]), _person(2, NUMBERS[1])]
    decisions = [_decision(1, 1, (_svc("15", "10"),)), _decision(2, 2, (_svc("99999", "10"),))]
    report = rules.build_report(YEAR, SENDER, persons, [], decisions)
    content, _ = _files(report)
    problems = register.schema_problems(content)
    assert [p.person_key for p in problems] == [2]
    with pytest.raises(service.RecordsInvalid) as caught:
        service._refuse_invalid(report, problems)
    body = caught.value.body()
    assert body["status"] == 409
    assert body["type"].endswith("/iplos-records-invalid")
    assert body["persons"] == [{"person_id": str(_uuid(2)), "elements": ["tjTjenType"]}]
    assert body["completeness"]["figures"]["persons"] == 2
    assert "99999" not in str(body)
    # An error outside any person's record is hjemflyt's own fault: 500.
    broken = content.replace(b"<ipl:iiInnhType>P<", b"<ipl:iiInnhType>Q<")
    with pytest.raises(service.SchemaInvalid):
        service._refuse_invalid(report, register.schema_problems(broken))
