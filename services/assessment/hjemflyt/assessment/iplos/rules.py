"""The yearly IPLOS report to the national register (KPR), as pure rules: no IO (DOMAIN § 9, § 9a).

From plain facts (persons, completed assessments, decisions with their services, applications
and appeals) and a year, compute what the register file holds per the IPLOS 2018 schema
(`IPLOS-2018-rev2018-10-10.xsd`, namespace http://www.npr.no/xmlstds/iplos/2018):

- PERSON: age on 31 December of the year, gender (from the identity number), municipality and
  district number, the first date of service (peFraDato), date of death, last change;
- FUNKSJON: each function score with its period (from the assessment's date to the day before
  the next assessment, or the year's end);
- TJENESTE: each granted service of a decision in force during the year, with its IPLOS service
  code, hours per week = decided hours per month / 4 (as the register defines; at most 168),
  application, decision and appeal dates and the decision's id (tjVeID, with tjVeNrID its
  number in the person's series of decisions).

The identity file (identity numbers) is produced apart from the content file: the content
file carries only `pePeID`, a number local to this delivery, and the identity file maps that
number to the identity number. Both carry the same delivery number (iiLopenr).

Before the files, a completeness report lists per person (by hjemflyt's pseudonymous id) what
the register would reject, so the municipality can mend it in time. Problems that make a
schema-valid or credible record impossible (no gender, no register district number, no decision
date, a service code that is not a number, more than 168 hours a week) leave the record out of
the file; the rest (no scores, no
hours) are still written and flagged.

Function variables: `fnFunkType` is the register's numeric variable code, which the code
list leaves None until taken from the directorate's list (contracts/iplos.py: "Do not guess
it"). Scores of a variable without a register code are not written, and the report says so
once per delivery (`function-codes-missing`); callers pass `register_codes` to fill them in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from hjemflyt.shared.contracts import iplos as codes
from hjemflyt.shared.identity import IdentityNumber, InvalidIdentityNumber, age_on, parse_identity_number

SCHEMA_VERSION = "3.5"
MAX_HOURS_PER_WEEK = Decimal(168)
WEEKS_PER_MONTH = Decimal(4)  # the register's definition, not 52/12
_CENT = Decimal("0.01")

# IPLOS service codes whose scope is decided time: the register expects hours per week.
# (DOMAIN § 9: 1 practical help - daily tasks, 2 practical help - training, 3 BPA,
# 15 health services at home.) Others (safety alarm, meal delivery ...) carry no hours.
HOUR_BASED_SERVICE_CODES: frozenset[int] = frozenset({1, 2, 3, 15})

# Statistics Norway's district numbers of Oslo (kommune 0301, bydel 01-15), by hjemflyt's
# district code (config/presets.py). Another municipality passes its own mapping; a
# municipality without districts reports "00".
OSLO_DISTRICT_NUMBERS: dict[str, str] = {
    "gamle-oslo": "01",
    "grunerlokka": "02",
    "sagene": "03",
    "st-hanshaugen": "04",
    "frogner": "05",
    "ullern": "06",
    "vestre-aker": "07",
    "nordre-aker": "08",
    "bjerke": "09",
    "grorud": "10",
    "stovner": "11",
    "alna": "12",
    "ostensjo": "13",
    "nordstrand": "14",
    "sondre-nordstrand": "15",
}

REPORTED_OUTCOMES = frozenset({"granted", "partly_granted"})
REPORTED_STATUSES = frozenset({"made", "sent", "active", "ended"})


# --- facts in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonFacts:
    person_id: uuid.UUID  # hjemflyt's pseudonym
    identity_number: str
    district: str
    died_on: date | None = None


@dataclass(frozen=True)
class AssessmentFacts:
    person_id: uuid.UUID
    scored_on: date  # the visit date, or the completion date without one
    scores: Mapping[str, int]
    iplos_version: str = codes.CURRENT_VERSION


@dataclass(frozen=True)
class ServiceFacts:
    service_type: str
    service_code: str  # the IPLOS code, as configured on the service type
    outcome: str  # granted | partly_granted | refused
    hours_per_month: Decimal | None


@dataclass(frozen=True)
class DecisionFacts:
    decision_id: uuid.UUID
    person_id: uuid.UUID
    status: str
    decision_date: date | None
    start_date: date | None
    end_date: date | None
    services: tuple[ServiceFacts, ...]
    application_date: date | None = None
    ended_on: date | None = None  # when a running decision was ended early


@dataclass(frozen=True)
class AppealFacts:
    decision_id: uuid.UUID
    received_date: date
    answered_date: date | None


@dataclass(frozen=True)
class Contact:
    kind: str  # "1" responsible for the delivery, "2" IPLOS contact, "3" alternative contact
    name: str
    phone: str
    email: str


@dataclass(frozen=True)
class Sender:
    municipality: str  # kommunenummer, 4 digits
    contacts: tuple[Contact, ...]
    district_number: str = "00"  # the delivery's district; "00" for the whole municipality
    system_id: str = "hjemflyt"
    system_version: str = "1"


# --- content out --------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionRecord:
    variable: str
    register_code: int
    score: int
    from_date: date
    to_date: date


@dataclass(frozen=True)
class ServiceRecord:
    service_id: int  # tjTjID, within the person
    decision_key: int  # tjVeID
    decision_number: int  # tjVeNrID: the decision's number in the person's series
    decision_id: uuid.UUID
    service_type: str
    service_code: int
    application_date: date | None
    decision_date: date
    hours_per_week: Decimal | None
    from_date: date | None
    to_date: date | None
    appeal_received: date | None
    appeal_answered: date | None


@dataclass(frozen=True)
class PersonRecord:
    key: int  # pePeID, the link between the content and the identity file
    person_id: uuid.UUID
    identity_number: str
    age: int
    gender: str  # M | K
    municipality: str
    district_number: str
    from_date: date
    died_on: date | None
    changed_on: date
    functions: tuple[FunctionRecord, ...]
    services: tuple[ServiceRecord, ...]


class Rule(StrEnum):
    person_without_scores = "person-without-scores"
    incomplete_scores = "incomplete-scores"
    service_without_hours = "service-without-hours"
    hours_over_limit = "hours-over-limit"
    decision_without_date = "decision-without-date"
    service_code_invalid = "service-code-invalid"
    gender_unknown = "gender-unknown"
    identity_invalid = "identity-invalid"
    district_without_number = "district-without-number"
    function_codes_missing = "function-codes-missing"


# Problems that leave the record out of the file (a schema-valid record is impossible).
LEFT_OUT: frozenset[Rule] = frozenset(
    {
        Rule.decision_without_date,
        Rule.service_code_invalid,
        Rule.hours_over_limit,  # the register allows at most 168 hours a week
        Rule.gender_unknown,
        Rule.identity_invalid,
        Rule.district_without_number,
    }
)


@dataclass(frozen=True)
class Problem:
    rule: Rule
    person_id: uuid.UUID | None  # None for a problem of the whole delivery
    message: str
    decision_id: uuid.UUID | None = None
    service_type: str | None = None

    @property
    def left_out(self) -> bool:
        return self.rule in LEFT_OUT


@dataclass(frozen=True)
class Report:
    year: int
    municipality: str
    persons: tuple[PersonRecord, ...]
    problems: tuple[Problem, ...] = field(default=())

    @property
    def service_count(self) -> int:
        return sum(len(p.services) for p in self.persons)

    @property
    def hours_per_week(self) -> Decimal:
        return sum((s.hours_per_week or Decimal(0) for p in self.persons for s in p.services), Decimal(0))

    def problems_by_person(self) -> dict[uuid.UUID | None, list[Problem]]:
        out: dict[uuid.UUID | None, list[Problem]] = {}
        for problem in self.problems:
            out.setdefault(problem.person_id, []).append(problem)
        return out


# --- the rules ----------------------------------------------------------------------------


def hours_per_week(hours_per_month: Decimal) -> Decimal:
    """Decided hours per month / 4, to two decimals (the register's definition)."""
    return (Decimal(hours_per_month) / WEEKS_PER_MONTH).quantize(_CENT, rounding=ROUND_HALF_UP)


def gender_of(identity_number: str) -> str | None:
    """M or K from the individual number's last digit (odd: man); None for numbers issued
    under the 2032 rules, which carry no gender."""
    return _gender(parse_identity_number(identity_number))


def _gender(parsed: IdentityNumber) -> str | None:
    if parsed.rules_2032:
        return None
    return "M" if int(parsed.value[8]) % 2 else "K"


def _decision_end(d: DecisionFacts) -> date | None:
    ends = [x for x in (d.end_date, d.ended_on) if x is not None]
    return min(ends) if ends else None


def in_force_during(d: DecisionFacts, first: date, last: date) -> bool:
    """A made decision whose service period touches the year (or, without a start date,
    made during the year)."""
    if d.status not in REPORTED_STATUSES:
        return False
    start = d.start_date or d.decision_date
    if start is None:
        return False
    end = _decision_end(d)
    return start <= last and (end is None or end >= first)


def function_periods(
    assessments: Sequence[AssessmentFacts], first: date, last: date
) -> list[tuple[AssessmentFacts, date, date]]:
    """The assessments in force during the year, each with its period: from its date (or
    the year's first day, if earlier) to the day before the next one (or the year's last)."""
    ordered = sorted((a for a in assessments if a.scored_on <= last), key=lambda a: a.scored_on)
    out: list[tuple[AssessmentFacts, date, date]] = []
    for i, a in enumerate(ordered):
        nxt = ordered[i + 1].scored_on if i + 1 < len(ordered) else None
        to = min(last, nxt - timedelta(days=1)) if nxt is not None else last
        if to < first or (nxt is not None and nxt == a.scored_on):
            continue  # superseded before the year, or by one scored the same day
        out.append((a, max(a.scored_on, first), to))
    return out


def build_report(
    year: int,
    sender: Sender,
    persons: Iterable[PersonFacts],
    assessments: Iterable[AssessmentFacts],
    decisions: Iterable[DecisionFacts],
    appeals: Iterable[AppealFacts] = (),
    *,
    district_numbers: Mapping[str, str] = OSLO_DISTRICT_NUMBERS,
    register_codes: Mapping[str, int] | None = None,
) -> Report:
    """The year's register content and its completeness problems.

    `register_codes` maps a function variable key to the register's fnFunkType; by default
    the code list's own (None today, so no FUNKSJON is written and the report says so)."""
    by_person_assessments: dict[uuid.UUID, list[AssessmentFacts]] = {}
    for a in assessments:
        by_person_assessments.setdefault(a.person_id, []).append(a)
    by_person_decisions: dict[uuid.UUID, list[DecisionFacts]] = {}
    for d in decisions:
        by_person_decisions.setdefault(d.person_id, []).append(d)
    appeal_of: dict[uuid.UUID, AppealFacts] = {}
    for ap in sorted(appeals, key=lambda x: x.received_date):
        appeal_of[ap.decision_id] = ap  # the latest appeal of a decision

    report = _ReportYear(
        date(year, 1, 1), date(year, 12, 31), sender, district_numbers, _CodeLookup(register_codes), appeal_of
    )
    records: list[PersonRecord] = []
    for person in sorted(persons, key=lambda p: p.person_id):
        record = report.person(
            person,
            by_person_decisions.get(person.person_id, []),
            by_person_assessments.get(person.person_id, []),
            key=len(records) + 1,
        )
        if record is not None:
            records.append(record)

    if report.missing_codes:
        report.problems.append(
            Problem(
                Rule.function_codes_missing,
                None,
                "No register code (fnFunkType) for the function variables "
                f"{', '.join(sorted(report.missing_codes))}: their scores are not written.",
            )
        )
    return Report(year, sender.municipality, tuple(records), tuple(report.problems))


class _CodeLookup:
    """fnFunkType per code list version and variable, looked up once, not per score."""

    def __init__(self, register_codes: Mapping[str, int] | None) -> None:
        self.register_codes = register_codes
        self.version_codes: dict[str, dict[str, int | None]] = {
            name: {v.key: (register_codes.get(v.key) if register_codes is not None else v.register_code)
                   for v in version.variables}
            for name, version in codes.VERSIONS.items()
        }  # fmt: skip
        self.current_codes = self.version_codes[codes.CURRENT_VERSION]

    def __call__(self, key: str, version: str) -> int | None:
        if self.register_codes is not None and key in self.register_codes:
            return self.register_codes[key]
        return self.version_codes.get(version, self.current_codes).get(key)


@dataclass
class _ReportYear:
    """One year's report while it is built: what holds across persons (the problems, the
    decisions' keys, the variables without a register code)."""

    first: date
    last: date
    sender: Sender
    district_numbers: Mapping[str, str]
    code_of: _CodeLookup
    appeal_of: Mapping[uuid.UUID, AppealFacts]
    problems: list[Problem] = field(default_factory=list)
    decision_keys: dict[uuid.UUID, int] = field(default_factory=dict)
    missing_codes: set[str] = field(default_factory=set)

    def problem(
        self,
        rule: Rule,
        pid: uuid.UUID,
        message: str,
        *,
        decision_id: uuid.UUID | None = None,
        service_type: str | None = None,
    ) -> None:
        self.problems.append(Problem(rule, pid, message, decision_id, service_type))

    def person(
        self,
        person: PersonFacts,
        decisions: Sequence[DecisionFacts],
        assessments: Sequence[AssessmentFacts],
        key: int,
    ) -> PersonRecord | None:
        """A recipient's record, or None if they are not one this year or their record cannot
        be written; the problems found on the way are kept either way."""
        own = sorted(
            decisions, key=lambda d: (d.decision_date or d.start_date or self.first, str(d.decision_id))
        )
        reported = [d for d in own if in_force_during(d, self.first, self.last)]
        granted = [(d, s) for d in reported for s in d.services if s.outcome in REPORTED_OUTCOMES]
        if not granted:
            return None  # not a recipient of services this year
        pid = person.person_id
        try:
            parsed = parse_identity_number(person.identity_number)
        except InvalidIdentityNumber:
            self.problem(Rule.identity_invalid, pid, "The identity number is not valid.")
            return None
        gender = _gender(parsed)
        district_number = self.district_numbers.get(person.district)
        self._check_identity(person, parsed, gender, district_number)

        series = {d.decision_id: i for i, d in enumerate(own, start=1)}
        services: list[ServiceRecord] = []
        for d, s in granted:
            record = self._service(pid, d, s, series[d.decision_id], len(services) + 1)
            if record is not None:
                services.append(record)

        periods = function_periods(assessments, self.first, self.last)
        functions = self._functions(pid, periods)

        if parsed.birth_date is None or gender is None or district_number is None:
            return None
        starts = [s.from_date or s.decision_date for s in services]
        changes = [s.decision_date for s in services] + [a.scored_on for a, _, _ in periods]
        died_on = person.died_on if person.died_on is not None and person.died_on <= self.last else None
        if died_on is not None:
            changes.append(died_on)
        return PersonRecord(
            key=key,
            person_id=pid,
            identity_number=parsed.value,
            age=age_on(parsed.birth_date, self.last),
            gender=gender,
            municipality=self.sender.municipality,
            district_number=district_number,
            from_date=min(starts) if starts else self.first,
            died_on=died_on,
            changed_on=max((c for c in changes if c <= self.last), default=self.first),
            functions=tuple(functions),
            services=tuple(services),
        )

    def _check_identity(
        self, person: PersonFacts, parsed: IdentityNumber, gender: str | None, district_number: str | None
    ) -> None:
        pid = person.person_id
        if gender is None:
            self.problem(Rule.gender_unknown, pid, "The identity number carries no gender (2032 rules).")
        if parsed.birth_date is None:
            self.problem(Rule.identity_invalid, pid, "No birth date can be read from the identity number.")
        if district_number is None:
            self.problem(
                Rule.district_without_number,
                pid,
                f"The district {person.district!r} has no register district number.",
            )

    def _service(
        self, pid: uuid.UUID, d: DecisionFacts, s: ServiceFacts, number: int, service_id: int
    ) -> ServiceRecord | None:
        """One granted service's record; None (and a problem) if the register cannot take it."""
        if d.decision_date is None:
            self.problem(
                Rule.decision_without_date,
                pid,
                "The decision has no decision date.",
                decision_id=d.decision_id,
            )
            return None
        try:
            code = int(s.service_code)
        except ValueError:
            self.problem(
                Rule.service_code_invalid,
                pid,
                f"The service {s.service_type!r} has no numeric IPLOS code ({s.service_code!r}).",
                decision_id=d.decision_id,
                service_type=s.service_type,
            )
            return None
        weekly: Decimal | None = None
        if s.hours_per_month is not None and s.hours_per_month > 0:
            weekly = hours_per_week(s.hours_per_month)
            if weekly > MAX_HOURS_PER_WEEK:
                self.problem(
                    Rule.hours_over_limit,
                    pid,
                    f"{weekly} hours per week for {s.service_type!r} exceeds 168.",
                    decision_id=d.decision_id,
                    service_type=s.service_type,
                )
                return None
        elif code in HOUR_BASED_SERVICE_CODES:
            self.problem(
                Rule.service_without_hours,
                pid,
                f"The service {s.service_type!r} (IPLOS {code}) has no decided hours.",
                decision_id=d.decision_id,
                service_type=s.service_type,
            )
        appeal = self.appeal_of.get(d.decision_id)
        return ServiceRecord(
            service_id=service_id,
            decision_key=self.decision_keys.setdefault(d.decision_id, len(self.decision_keys) + 1),
            decision_number=number,
            decision_id=d.decision_id,
            service_type=s.service_type,
            service_code=code,
            application_date=d.application_date,
            decision_date=d.decision_date,
            hours_per_week=weekly,
            from_date=d.start_date,
            to_date=_decision_end(d),
            appeal_received=appeal.received_date if appeal and appeal.received_date <= self.last else None,
            appeal_answered=appeal.answered_date
            if appeal and appeal.answered_date and appeal.answered_date <= self.last
            else None,
        )

    def _functions(
        self, pid: uuid.UUID, periods: Sequence[tuple[AssessmentFacts, date, date]]
    ) -> list[FunctionRecord]:
        """The scores in force during the year, each with its period; a variable without a
        register code is left out and remembered for the delivery's problem."""
        if not periods:
            self.problem(
                Rule.person_without_scores, pid, "No completed function assessment in force during the year."
            )
        functions: list[FunctionRecord] = []
        for a, start, to in periods:
            version = codes.VERSIONS.get(a.iplos_version)
            if version is not None and (missing := codes.unscored(a.scores, version)):
                self.problem(
                    Rule.incomplete_scores,
                    pid,
                    f"The assessment of {a.scored_on.isoformat()} lacks scores for: {', '.join(missing)}.",
                )
            for key, score in a.scores.items():
                rc = self.code_of(key, a.iplos_version)
                if rc is None:
                    self.missing_codes.add(key)
                    continue
                functions.append(FunctionRecord(key, rc, int(score), start, to))
        return functions
