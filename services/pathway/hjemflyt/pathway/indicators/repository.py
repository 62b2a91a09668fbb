"""All SQL of the indicators: recording facts from events, and the aggregates.

The aggregates run in PostgreSQL (millions of visits); each statement takes the months as
two arrays (first day, day the stock figures are taken) and the districts to include
(None: all). Scoping by principal happens in `visible_districts`, before any statement.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Date, Text, bindparam, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.elements import TextClause

from hjemflyt.pathway.db import SCHEMA
from hjemflyt.pathway.indicators.models import AppealFact, DecisionFact, QualityBoardWeek, ReferralFact
from hjemflyt.pathway.pathways.models import Pathway
from hjemflyt.pathway.pathways.rules import Outcome
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.errors import NotFound
from hjemflyt.shared.platform.repository import Repository

HOME_NURSING = "15"  # IPLOS service code: health services at home


@dataclass(frozen=True)
class Visit:
    visit_id: str
    person_id: uuid.UUID
    district: str
    visit_date: date
    staff_id: str | None
    cancelled: bool


def visible_districts(principal: Principal, asked: str | None) -> list[str] | None:
    """The districts a query may cover: None means every district (municipality-wide
    principals asking for none in particular)."""
    if asked is not None:
        if not principal.may_see_district(asked):
            raise NotFound(f"No district {asked!r} you may see.")
        return [asked]
    return None if principal.all_districts else sorted(principal.districts)


_RECORD_VISITS = text(
    """
    INSERT INTO pathway.visit_fact
        (provider_org, visit_id, person_id, district, visit_date, staff_id, cancelled, reported_at)
    SELECT :org, v.visit_id, v.person_id, v.district, v.visit_date, v.staff_id, v.cancelled, :reported_at
    FROM unnest(CAST(:visit_ids AS text[]), CAST(:person_ids AS uuid[]), CAST(:districts AS text[]),
                CAST(:dates AS date[]), CAST(:staff AS text[]), CAST(:cancelled AS boolean[]))
         AS v(visit_id, person_id, district, visit_date, staff_id, cancelled)
    ON CONFLICT (provider_org, visit_id) DO UPDATE SET
        person_id = excluded.person_id, district = excluded.district,
        visit_date = excluded.visit_date, staff_id = excluded.staff_id,
        cancelled = excluded.cancelled, reported_at = excluded.reported_at
    WHERE pathway.visit_fact.reported_at <= excluded.reported_at
    """
)


class FactRepository(Repository):
    """Writes of the facts, each idempotent and safe against events out of order."""

    async def record_visits(self, provider_org: str, visits: Sequence[Visit], reported_at: datetime) -> None:
        # One statement per chunk (up to 1,000 visits) from arrays: the cost of a COPY
        # without leaving the unit of work. A visit twice in one chunk: the last one counts
        # (ON CONFLICT may not touch a row twice in one statement).
        latest = {v.visit_id: v for v in visits}
        if not latest:
            return
        vs = list(latest.values())
        await self.session.execute(
            _RECORD_VISITS,
            {
                "org": provider_org,
                "reported_at": reported_at,
                "visit_ids": [v.visit_id for v in vs],
                "person_ids": [v.person_id for v in vs],
                "districts": [v.district for v in vs],
                "dates": [v.visit_date for v in vs],
                "staff": [v.staff_id for v in vs],
                "cancelled": [v.cancelled for v in vs],
            },
        )

    async def record_referral(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(ReferralFact).values(**values).on_conflict_do_nothing())

    async def record_decision_version(self, values: dict[str, Any]) -> None:
        """A made or amended version: the content if newer than the stored one; the decision
        date from whichever made version brings one first."""
        new = insert(DecisionFact).values(**values)
        old = "pathway.decision_fact"
        content = ("district", "start_date", "end_date", "evaluation_date", "service_codes")
        set_: dict[str, Any] = {
            k: literal_column(
                f"CASE WHEN excluded.content_version > {old}.content_version"
                f" THEN excluded.{k} ELSE {old}.{k} END"
            )
            for k in content
        }
        set_["content_version"] = literal_column(f"greatest({old}.content_version, excluded.content_version)")
        # The earliest made version's date is the decision date (a made event may come late).
        set_["decision_date"] = literal_column(f"least({old}.decision_date, excluded.decision_date)")
        await self.session.execute(
            new.on_conflict_do_update(index_elements=[DecisionFact.decision_id], set_=set_)
        )

    async def record_decision_end(
        self, decision_id: uuid.UUID, person_id: uuid.UUID, district: str, ended_on: date
    ) -> None:
        """The end is final: the first end recorded stays, whatever arrives later."""
        stmt = insert(DecisionFact).values(
            decision_id=decision_id,
            person_id=person_id,
            district=district,
            content_version=0,
            service_codes=[],
            ended_on=ended_on,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[DecisionFact.decision_id],
            set_={"ended_on": stmt.excluded.ended_on},
            where=DecisionFact.ended_on.is_(None),
        )
        await self.session.execute(stmt)

    async def record_appeal(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(AppealFact).values(**values).on_conflict_do_nothing())


# --- aggregates ----------------------------------------------------------------------


# The months asked for: first day, last day and the day stock figures are taken.
_MONTHS = """
m AS (
    SELECT f AS first, (f + interval '1 month' - interval '1 day')::date AS last, a AS as_of
    FROM unnest(CAST(:firsts AS date[]), CAST(:as_ofs AS date[])) AS x(f, a)
)"""
_DISTRICT = "(CAST(:districts AS text[]) IS NULL OR {col} = ANY(CAST(:districts AS text[])))"
# A decision's last day in force: the day it ended, else its own end date (None: open).
_LAST_DAY = "coalesce(d.ended_on, d.end_date)"
_FRAGMENTS = {
    "months": _MONTHS,
    "last_day": _LAST_DAY,
    "home_nursing": HOME_NURSING,
    "pathway": f"{SCHEMA}.{Pathway.__tablename__}",
    "no_services": Outcome.no_services.value,
    "board_district": _DISTRICT.format(col="coalesce(q.district, p.district)"),
    **{f"{t}_district": _DISTRICT.format(col=f"{t}.district") for t in "adprv"},
}


def _sql(template: str) -> TextClause:
    """A statement from constant fragments (never from input: values are bound)."""
    return text(template.format(**_FRAGMENTS))


USERS = _sql(
    """
    WITH {months}
    SELECT d.district, m.first AS month, count(DISTINCT d.person_id) AS users,
           count(DISTINCT d.person_id) FILTER (WHERE '{home_nursing}' = ANY(d.service_codes)) AS home_nursing
    FROM m JOIN pathway.decision_fact d
      ON d.start_date <= m.last AND ({last_day} IS NULL OR {last_day} >= m.first)
    WHERE {d_district}
    GROUP BY d.district, m.first
    """
)

BACKLOG = _sql(
    """
    WITH {months}
    SELECT d.district, m.first AS month, count(*) AS active,
           count(*) FILTER (WHERE d.evaluation_date < m.as_of) AS backlog
    FROM m JOIN pathway.decision_fact d
      ON d.start_date <= m.as_of AND ({last_day} IS NULL OR {last_day} >= m.as_of)
    WHERE {d_district}
    GROUP BY d.district, m.first
    """
)

WAITS = _sql(
    """
    WITH r AS (
        SELECT r.district, date_trunc('month', r.received_date)::date AS month,
               (SELECT min(d.decision_date) FROM pathway.decision_fact d
                 WHERE d.person_id = r.person_id AND d.decision_date >= r.received_date)
                 - r.received_date AS to_decision,
               (SELECT min(v.visit_date) FROM pathway.visit_fact v
                 WHERE v.person_id = r.person_id AND NOT v.cancelled AND v.visit_date >= r.received_date)
                 - r.received_date AS to_visit
        FROM pathway.referral_fact r
        WHERE r.received_date >= :start AND r.received_date < :stop AND {r_district}
    )
    SELECT district, month, count(*) AS referrals,
           count(to_decision) AS decided,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY to_decision) AS decision_median,
           avg(to_decision)::float8 AS decision_mean,
           count(to_visit) AS visited,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY to_visit) AS visit_median,
           avg(to_visit)::float8 AS visit_mean
    FROM r GROUP BY district, month
    """
)

CONTINUITY = _sql(
    """
    WITH {months},
    hn AS (
        SELECT DISTINCT d.person_id, m.first AS month
        FROM m JOIN pathway.decision_fact d
          ON '{home_nursing}' = ANY(d.service_codes)
         AND d.start_date <= m.last AND ({last_day} IS NULL OR {last_day} >= m.first)
    ),
    per AS (
        SELECT v.district, v.provider_org, v.person_id,
               date_trunc('month', v.visit_date)::date AS month,
               count(DISTINCT v.staff_id) AS staff
        FROM pathway.visit_fact v
        WHERE v.visit_date >= :start AND v.visit_date < :stop AND NOT v.cancelled
          AND v.staff_id IS NOT NULL AND {v_district}
          AND (CAST(:unit AS text) IS NULL OR v.provider_org = CAST(:unit AS text))
        GROUP BY GROUPING SETS ((v.district, v.person_id, month),
                                (v.district, v.provider_org, v.person_id, month))
    )
    SELECT per.district, per.provider_org AS unit, per.month,
           count(*) AS persons, avg(per.staff)::float8 AS mean_staff
    FROM per JOIN hn ON hn.person_id = per.person_id AND hn.month = per.month
    GROUP BY per.district, per.provider_org, per.month
    """
)

APPEALS = _sql(
    """
    SELECT a.district, date_trunc('month', a.decided_date)::date AS month, a.stage, a.outcome,
           count(*) AS appeals
    FROM pathway.appeal_fact a
    WHERE a.decided_date >= :start AND a.decided_date < :stop AND {a_district}
    GROUP BY 1, 2, 3, 4
    """
)

# Pathways (the pathways module's table): persons in one some day of the month, beside the
# users, so the share's denominator is the union of both.
PATHWAY_PERSONS = _sql(
    """
    WITH {months}
    SELECT x.district, x.month,
           count(DISTINCT x.person_id) FILTER (WHERE x.in_pathway) AS in_pathway,
           count(DISTINCT x.person_id) AS users_or_pathway
    FROM (
        SELECT p.district, m.first AS month, p.person_id, true AS in_pathway
        FROM m JOIN {pathway} p ON p.opened_on <= m.last AND (p.closed_on IS NULL OR p.closed_on >= m.first)
        WHERE {p_district}
        UNION ALL
        SELECT d.district, m.first, d.person_id, false
        FROM m JOIN pathway.decision_fact d
          ON d.start_date <= m.last AND ({last_day} IS NULL OR {last_day} >= m.first)
        WHERE {d_district}
    ) x
    GROUP BY x.district, x.month
    HAVING count(*) FILTER (WHERE x.in_pathway) > 0
    """
)

# Open on `as_of` (closed that day: no longer open), overdue (planned end before `as_of`),
# closed in the month and of those closed with no services.
PATHWAY_FLOW = _sql(
    """
    WITH {months}
    SELECT p.district, m.first AS month,
           count(*) FILTER (WHERE p.opened_on <= m.as_of AND (p.closed_on IS NULL OR p.closed_on > m.as_of))
             AS open,
           count(*) FILTER (WHERE p.opened_on <= m.as_of AND (p.closed_on IS NULL OR p.closed_on > m.as_of)
                              AND p.planned_end < m.as_of) AS overdue,
           count(*) FILTER (WHERE p.closed_on BETWEEN m.first AND m.last) AS closed,
           count(*) FILTER (WHERE p.closed_on BETWEEN m.first AND m.last AND p.outcome = '{no_services}')
             AS closed_without_services
    FROM m JOIN {pathway} p ON p.opened_on <= m.last AND (p.closed_on IS NULL OR p.closed_on >= m.first)
    WHERE {p_district}
    GROUP BY p.district, m.first
    """
)


class IndicatorRepository(Repository):
    @staticmethod
    def params(
        firsts: Sequence[date],
        as_ofs: Sequence[date],
        stop: date,
        districts: Collection[str] | None,
        unit: str | None,
    ) -> dict[str, Any]:
        return {
            "firsts": list(firsts),
            "as_ofs": list(as_ofs),
            "start": firsts[0],
            "stop": stop,
            "districts": None if districts is None else list(districts),
            "unit": unit,
        }

    async def rows(self, stmt: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        used = {k: v for k, v in params.items() if f":{k}" in str(stmt)}
        return [dict(r._mapping) for r in await self.session.execute(stmt, used)]


class QualityBoardRepository(Repository):
    async def record(self, values: dict[str, Any]) -> None:
        stmt = insert(QualityBoardWeek).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[QualityBoardWeek.person_id, QualityBoardWeek.week],
            set_={k: stmt.excluded[k] for k in values if k not in ("person_id", "week")},
        )
        await self.session.execute(stmt)

    async def person_district(self, person_id: uuid.UUID) -> str | None:
        """The district of the person's latest decision (what the board is scoped by)."""
        return await self.session.scalar(
            select(DecisionFact.district)
            .where(DecisionFact.person_id == person_id)
            .order_by(DecisionFact.decision_date.desc().nulls_last(), DecisionFact.decision_id)
            .limit(1)
        )

    async def board(
        self, districts: Collection[str] | None, monday: date, sunday: date, week: str
    ) -> list[dict[str, Any]]:
        """Persons of the districts on the week's board: everyone with a decision in force
        some day of the week, and everyone with a record for the week. A person without a
        record has every item missing."""
        stmt = _sql(
            """
            WITH persons AS (
                SELECT DISTINCT ON (d.person_id) d.person_id, d.district
                FROM pathway.decision_fact d
                WHERE d.start_date <= :sunday AND ({last_day} IS NULL OR {last_day} >= :monday)
                ORDER BY d.person_id, d.decision_date DESC NULLS LAST
            )
            SELECT coalesce(q.person_id, p.person_id) AS person_id,
                   coalesce(q.district, p.district) AS district,
                   q.right_of_access_informed, q.care_plan_updated, q.nutrition, q.vital_signs,
                   q.fall_assessment, q.recorded_at
            FROM persons p
            FULL JOIN (SELECT * FROM pathway.quality_board_week WHERE week = :week) q
              ON q.person_id = p.person_id
            WHERE {board_district}
            ORDER BY 2, 1
            """
        ).bindparams(
            bindparam("districts", type_=ARRAY(Text)),
            bindparam("monday", type_=Date),
            bindparam("sunday", type_=Date),
        )
        params = {
            "districts": None if districts is None else list(districts),
            "monday": monday,
            "sunday": sunday,
            "week": week,
        }
        return [dict(r._mapping) for r in await self.session.execute(stmt, params)]
