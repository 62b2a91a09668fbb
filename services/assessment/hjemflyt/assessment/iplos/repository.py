"""All SQL of the IPLOS report: the year's rows as plain facts for `rules.build_report`.

Reads are scoped here by the person's district, so a case officer's completeness report only
ever holds their own districts. Four set-based queries (decisions with their services and
application dates, the persons, their completed assessments, the appeals), never one per
person: a municipality of 20,000 persons is read in a handful of round trips.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true

from hjemflyt.assessment.appeals.models import Appeal
from hjemflyt.assessment.appeals.rules import AppealStatus, answered
from hjemflyt.assessment.assessments.models import Assessment
from hjemflyt.assessment.decisions.models import Decision, DecisionService
from hjemflyt.assessment.iplos import rules
from hjemflyt.assessment.persons.models import Person
from hjemflyt.assessment.referrals.models import Application
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository


def _scope(principal: Principal) -> ColumnElement[bool]:
    if principal.all_districts:
        return true()
    return Person.district.in_(principal.districts)


def _in_force(first: date, last: date) -> ColumnElement[bool]:
    start = func.coalesce(Decision.start_date, Decision.decision_date)
    return and_(
        Decision.status.in_(sorted(rules.REPORTED_STATUSES)),
        start <= last,
        or_(Decision.end_date.is_(None), Decision.end_date >= first),
    )


class IplosRepository(Repository):
    async def facts(
        self, principal: Principal, year: int, decrypt: Callable[[bytes], str]
    ) -> tuple[
        list[rules.PersonFacts],
        list[rules.AssessmentFacts],
        list[rules.DecisionFacts],
        list[rules.AppealFacts],
    ]:
        first, last = date(year, 1, 1), date(year, 12, 31)
        # The persons with a decision in force during the year (in the principal's districts).
        recipients = (
            select(Decision.person_id)
            .join(Person, Person.id == Decision.person_id)
            .where(_in_force(first, last), _scope(principal))
            .distinct()
            .subquery()
        )
        # All their made decisions (the series numbers count every one, not only this year's).
        decision_rows = (
            await self.session.execute(
                select(
                    Decision.id,
                    Decision.person_id,
                    Decision.status,
                    Decision.decision_date,
                    Decision.start_date,
                    Decision.end_date,
                    Decision.ended_at,
                    Application.received_date,
                    DecisionService.service_type,
                    DecisionService.service_code,
                    DecisionService.outcome,
                    DecisionService.hours_per_month,
                )
                .join(recipients, recipients.c.person_id == Decision.person_id)
                .outerjoin(Application, Application.id == Decision.application_id)
                .outerjoin(DecisionService, DecisionService.decision_id == Decision.id)
                .where(Decision.status.in_(sorted(rules.REPORTED_STATUSES)))
                .order_by(Decision.person_id, Decision.id, DecisionService.service_type)
            )
        ).all()
        # Rows come ordered by decision: each decision is built once, when its rows are read.
        decision_facts: list[rules.DecisionFacts] = []
        head: Any = None
        services: list[rules.ServiceFacts] = []

        def close() -> None:
            if head is not None:
                decision_facts.append(
                    rules.DecisionFacts(
                        decision_id=head.id,
                        person_id=head.person_id,
                        status=head.status,
                        decision_date=head.decision_date,
                        start_date=head.start_date,
                        end_date=head.end_date,
                        services=tuple(services),
                        application_date=head.received_date,
                        ended_on=head.ended_at.date()
                        if head.ended_at is not None and head.end_date is None
                        else None,
                    )
                )

        for r in decision_rows:
            if head is None or r.id != head.id:
                close()
                head, services = r, []
            if r.service_type is not None:
                hours = Decimal(r.hours_per_month) if r.hours_per_month is not None else None
                services.append(rules.ServiceFacts(r.service_type, r.service_code, r.outcome, hours))
        close()

        person_rows = (
            await self.session.execute(
                select(Person.id, Person.identity_cipher, Person.district, Person.died_on).join(
                    recipients, recipients.c.person_id == Person.id
                )
            )
        ).all()
        persons = [
            rules.PersonFacts(r.id, decrypt(r.identity_cipher), r.district, r.died_on) for r in person_rows
        ]

        assessment_rows = (
            await self.session.execute(
                select(
                    Assessment.person_id,
                    Assessment.visit_date,
                    Assessment.completed_at,
                    Assessment.scores,
                    Assessment.iplos_version,
                )
                .join(recipients, recipients.c.person_id == Assessment.person_id)
                .where(Assessment.status == "completed")
            )
        ).all()
        assessments = [
            rules.AssessmentFacts(
                r.person_id,
                r.visit_date or r.completed_at.date(),
                dict(r.scores or {}),
                r.iplos_version,
            )
            for r in assessment_rows
            if r.visit_date is not None or r.completed_at is not None
        ]

        appeal_rows = (
            await self.session.execute(
                select(
                    Appeal.decision_id,
                    Appeal.status,
                    Appeal.received_date,
                    Appeal.municipality_decided_date,
                    Appeal.final_date,
                ).join(recipients, recipients.c.person_id == Appeal.person_id)
            )
        ).all()
        # Answered as the appeals module says (GET /v1/appeals/{id} answered_date): when closed,
        # by the appeal body's date or the municipality's own; an upheld appeal forwarded to the
        # appeal body is not answered yet.
        appeals = [
            rules.AppealFacts(
                r.decision_id,
                r.received_date,
                answered(
                    status=AppealStatus(r.status),
                    municipality_decided=r.municipality_decided_date,
                    final=r.final_date,
                ),
            )
            for r in appeal_rows
        ]
        return persons, assessments, decision_facts, appeals
