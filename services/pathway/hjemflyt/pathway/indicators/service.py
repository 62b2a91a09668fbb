"""Use cases: the indicators per district, unit and month, and the weekly quality board.

Definitions (months are calendar months in Europe/Oslo; a month's *stock* figures are taken
on `as_of`: its last day, or today for the running month):

- **users**: distinct persons with a decision in force some day of the month (start date on
  or before the month's last day; last day in force — the day it ended, else its end
  date — none or on/after the month's first day), by the decision's district.
- **pathway share**: persons with a pathway open some day of the month / (users or
  those persons, counted once) — pathway 0 and 1 need no decision, so they count among the users too.
- **share ending without services**: pathways closed in the month (closed date) whose
  outcome is that no services followed / all pathways closed in the month.
- **overdue share**: pathways open on `as_of` whose planned end is before `as_of` /
  pathways open on `as_of`.
- **referral → decision**: for each referral received in the month (Oslo date of
  `received_at`; the referral's district), days to the earliest decision date of the
  person's decisions dated on or after it. Median and mean over referrals that reached a
  decision; those still waiting are counted (`referrals - reached`), not averaged.
- **referral → first visit**: the same, to the Oslo date of the person's first non-cancelled
  visit on or after the received date (any provider).
- **reassessment backlog**: decisions in force on `as_of` whose evaluation date is before
  `as_of` (numerator) of all decisions in force on `as_of` (`active_decisions`). The
  decision's latest known version gives its dates.
- **continuity**: per person receiving home nursing (a decision with IPLOS service 15 in
  force some day of the month) with at least one non-cancelled visit with a staff id in the
  month (Oslo date of the actual start, else the planned start), the number of distinct
  staff ids; the mean over those persons. By the visit's district; per unit (the visit's
  provider) in `units`, where a person served by two units counts in each.
- **appeal outcomes**: appeal decisions dated in the month, counted by stage and outcome,
  by the appeal's district.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.pathway.indicators import rules
from hjemflyt.pathway.indicators.repository import (
    APPEALS,
    BACKLOG,
    CONTINUITY,
    PATHWAY_FLOW,
    PATHWAY_PERSONS,
    USERS,
    WAITS,
    IndicatorRepository,
    QualityBoardRepository,
)
from hjemflyt.pathway.indicators.schemas import (
    AppealCount,
    Continuity,
    DistrictMonth,
    Indicators,
    QualityBoardIn,
    QualityBoardPerson,
    UnitMonth,
    Wait,
)
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import NotFound, Problem


class InvalidPeriod(Problem):
    status = 422
    slug = "invalid-period"
    title = "Invalid period"


def period(from_month: str, to_month: str) -> tuple[date, date]:
    try:
        first, last = rules.parse_month(from_month), rules.parse_month(to_month)
    except ValueError as exc:
        raise InvalidPeriod(str(exc)) from exc
    if first > last:
        raise InvalidPeriod(f"`from` ({from_month}) is after `to` ({to_month}).")
    if len(rules.months(first, last)) > rules.MAX_MONTHS:
        raise InvalidPeriod(f"At most {rules.MAX_MONTHS} months at a time.")
    return first, last


def _wait(referrals: int, reached: int, median: Any, mean: Any) -> Wait:
    return Wait(
        referrals=referrals,
        reached=reached,
        median_days=None if median is None else float(median),
        mean_days=None if mean is None else float(mean),
    )


async def indicators(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    today: date,
    districts: Collection[str] | None,
    unit: str | None,
) -> Indicators:
    firsts = rules.months(first, last)
    as_ofs = [rules.as_of(m, today) for m in firsts]
    repo = IndicatorRepository(session)
    params = repo.params(firsts, as_ofs, rules.next_month(last), districts, unit)
    # One statement per group of figures; each is one pass over its table.
    users = await repo.rows(USERS, params)
    backlog = await repo.rows(BACKLOG, params)
    waits = await repo.rows(WAITS, params)
    continuity = await repo.rows(CONTINUITY, params)
    appeals = await repo.rows(APPEALS, params)
    pathways = await pathway_figures(session, params)

    keys: set[tuple[str, date]] = set()
    for group in (users, backlog, waits, appeals, pathways):
        keys.update((r["district"], r["month"]) for r in group)
    keys.update((r["district"], r["month"]) for r in continuity if r["unit"] is None)

    def index(found: list[dict[str, Any]]) -> dict[tuple[str, date], dict[str, Any]]:
        return {(r["district"], r["month"]): r for r in found}

    u, b, w, p = index(users), index(backlog), index(waits), index(pathways)
    c = {(r["district"], r["month"]): r for r in continuity if r["unit"] is None}
    a: dict[tuple[str, date], list[AppealCount]] = {}
    for r in sorted(appeals, key=lambda r: (r["stage"], r["outcome"])):
        a.setdefault((r["district"], r["month"]), []).append(
            AppealCount(stage=r["stage"], outcome=r["outcome"], appeals=r["appeals"])
        )
    as_of = dict(zip(firsts, as_ofs, strict=True))

    rows = []
    for district, month in sorted(keys):
        uw, bw, ww, cw, pw = (
            u.get((district, month), {}),
            b.get((district, month), {}),
            w.get((district, month), {}),
            c.get((district, month), {}),
            p.get((district, month), {}),
        )
        rows.append(
            DistrictMonth(
                district=district,
                month=rules.month_key(month),
                as_of=as_of[month],
                users=uw.get("users", 0),
                **pathway_shares(pw),
                referral_to_decision=_wait(
                    ww.get("referrals", 0),
                    ww.get("decided", 0),
                    ww.get("decision_median"),
                    ww.get("decision_mean"),
                ),
                referral_to_first_visit=_wait(
                    ww.get("referrals", 0), ww.get("visited", 0), ww.get("visit_median"), ww.get("visit_mean")
                ),
                active_decisions=bw.get("active", 0),
                reassessment_backlog=bw.get("backlog", 0),
                continuity=Continuity(persons=cw.get("persons", 0), mean_distinct_staff=cw.get("mean_staff")),
                appeals=a.get((district, month), []),
            )
        )
    units = [
        UnitMonth(
            district=r["district"],
            unit=r["unit"],
            month=rules.month_key(r["month"]),
            continuity=Continuity(persons=r["persons"], mean_distinct_staff=r["mean_staff"]),
        )
        for r in sorted(
            (r for r in continuity if r["unit"] is not None),
            key=lambda r: (r["district"], r["unit"], r["month"]),
        )
    ]
    return Indicators.model_validate(
        {
            "from": rules.month_key(first),
            "to": rules.month_key(last),
            "today": today,
            "districts": rows,
            "units": units,
        }
    )


async def pathway_figures(session: AsyncSession, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Per district and month: persons in a pathway, the union with users, pathways closed
    (and without services), open and overdue."""
    repo = IndicatorRepository(session)
    persons = {(r["district"], r["month"]): r for r in await repo.rows(PATHWAY_PERSONS, params)}
    out = []
    for r in await repo.rows(PATHWAY_FLOW, params):
        found = persons.get((r["district"], r["month"]), {"in_pathway": 0, "users_or_pathway": 0})
        out.append({**r, "in_pathway": found["in_pathway"], "users_or_pathway": found["users_or_pathway"]})
    return out


def pathway_shares(row: dict[str, Any]) -> dict[str, Any]:
    if not row:
        return {}
    return {
        "persons_in_pathway": row["in_pathway"],
        "pathway_share": rules.share(row["in_pathway"], row["users_or_pathway"]),
        "pathways_closed": row["closed"],
        "closed_without_services": row["closed_without_services"],
        "ended_without_services_share": rules.share(row["closed_without_services"], row["closed"]),
        "pathways_open": row["open"],
        "pathways_overdue": row["overdue"],
        "overdue_share": rules.share(row["overdue"], row["open"]),
    }


# --- weekly quality board ------------------------------------------------------------

BOARD_PURPOSE = "quality follow-up"


async def record_board_week(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    person_id: uuid.UUID,
    week: str,
    body: QualityBoardIn,
    log_read: LoggedRead,
) -> QualityBoardPerson:
    """Replace the person's record for the week, in a district the principal sees (the one
    named, else the person's)."""
    repo = QualityBoardRepository(session)
    district = body.district or await repo.person_district(person_id)
    if district is None or not principal.may_see_district(district):
        raise NotFound("No such person in a district you may see; name the district.")
    items = body.model_dump(exclude={"district"})
    now = ctx.clock.now()
    await repo.record(
        {
            "person_id": person_id,
            "week": week,
            "district": district,
            **items,
            "recorded_at": now,
            "recorded_by": principal.subject,
        }
    )
    await replace(log_read, purpose=BOARD_PURPOSE)(
        "quality-board", [person_id], resource_id=week, action=Action.update
    )
    missing = rules.missing_items(items)
    return QualityBoardPerson(
        person_id=person_id,
        district=district,
        status="red" if missing else "green",
        missing=missing,
        recorded_at=now,
    )


async def quality_board(
    session: AsyncSession,
    log_read: LoggedRead,
    districts: Collection[str] | None,
    monday: date,
    sunday: date,
    week: str,
) -> list[QualityBoardPerson]:
    """The week's board, red or green per person; each person on it logged."""
    found = await QualityBoardRepository(session).board(districts, monday, sunday, week)
    persons = []
    for r in found:
        done = None if r["recorded_at"] is None else {i.value: r[i.value] for i in rules.BoardItem}
        missing = rules.missing_items(done)
        persons.append(
            QualityBoardPerson(
                person_id=r["person_id"],
                district=r["district"],
                status="red" if missing else "green",
                missing=missing,
                recorded_at=r["recorded_at"],
            )
        )
    await replace(log_read, purpose=BOARD_PURPOSE).rows("quality-board", persons, resource_id=week)
    return persons
