"""Use cases of decided versus delivered: the month per person and provider, the flags the
case office is told of, and the limits a provider's statement is held to. Flushes, never
commits.

When flags are raised (published once per person, provider, month and kind):
- when a private provider's statement for a month is issued: the month is closed for that
  provider, its delivered visits final (later reports are corrections on the next statement);
- by the sweep (`worker.py`, on the service clock) for every provider, municipal ones
  included, once a month has been over for `GRACE_DAYS`: providers report visits in batches,
  and a month judged on its first day would look far below for every weekly reporter.
Above the decision is also shown month to date in the API (it cannot come down); far below
only for a month that is over.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.budget.delivered import rules
from hjemflyt.budget.delivered.repository import Delivered, DeliveredRepository
from hjemflyt.budget.deliveries.rules import hours, month_key, parse_month
from hjemflyt.shared.contracts.budget import DELIVERY_FLAGGED, DeliveryFlagged
from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.context import ServiceContext

# Providers report visits in batches, at the latest weekly; five days after a month's end a
# weekly reporter's last batch for it is in, so "far below" is judged on the whole month.
GRACE_DAYS = 5
# The sweep looks at the months ended this many months back at most (a service down for a
# while still flags them; older months were swept before).
LOOKBACK_MONTHS = 3
STATEMENT_ISSUED, MONTH_END_SWEEP = "statement-issued", "month-end-sweep"


def month_over(month: str, today: date) -> bool:
    return month < month_key(today)


# Per person what was decided and delivered: case handling data, so each read is logged.
READ_PURPOSE = "follow-up of delivery against the decision"


async def read_person_months(
    session: AsyncSession,
    log_read: LoggedRead,
    month: str,
    today: date,
    *,
    resource_id: str,
    provider_org: str | None = None,
    districts: Collection[str] | None = None,
    person_id: uuid.UUID | None = None,
) -> list[rules.PersonMonth]:
    """`person_months` as a reader sees it: every person shown is logged."""
    rows = await person_months(
        session, month, today, provider_org=provider_org, districts=districts, person_id=person_id
    )
    await replace(log_read, purpose=READ_PURPOSE)(
        "decided-vs-delivered", [r.person_id for r in rows], resource_id=resource_id
    )
    return rows


async def person_months(
    session: AsyncSession,
    month: str,
    today: date,
    *,
    provider_org: str | None = None,
    districts: Collection[str] | None = None,
    person_id: uuid.UUID | None = None,
) -> list[rules.PersonMonth]:
    """Decided against delivered per person and provider in the month, by provider then person.

    A person with visits but no decision known at the provider is listed with decided None
    (e.g. a pathway assignment before the decision) and never flagged."""
    year, m = parse_month(month)
    first, following = rules.month_bounds(year, m)
    repo = DeliveredRepository(session)
    decided = await repo.scopes(
        first, following, provider_org=provider_org, districts=districts, person_id=person_id
    )
    delivered = await repo.delivered(
        month, provider_org=provider_org, districts=districts, person_id=person_id
    )
    over = month_over(month, today)
    out: list[rules.PersonMonth] = []
    for key in sorted(set(decided) | set(delivered), key=lambda k: (k[1], str(k[0]))):
        district, scopes = decided.get(key, (None, []))
        done = delivered.get(key, Delivered())
        d = rules.decided_in_month(scopes, year, m)
        got = hours(done.seconds)
        out.append(
            rules.PersonMonth(
                person_id=key[0],
                provider_org=key[1],
                district=district or done.district,
                month=month,
                decided=d,
                delivered_hours=got,
                measures=rules.measures_in_month(scopes, done.measures, year, m),
                scope_kinds=sorted({s.scope_kind for s in scopes}),
                flags=rules.flags(d, got, month_over=over),
            )
        )
    return out


async def limits(session: AsyncSession, provider_org: str, month: str) -> dict[uuid.UUID, rules.Limit]:
    """person -> hours the decisions allow at most at the provider in the month (with the
    weekday swing), in all and per service: what a statement pays up to without the
    contract owner's approval."""
    year, m = parse_month(month)
    first, following = rules.month_bounds(year, m)
    found = await DeliveredRepository(session).scopes(first, following, provider_org=provider_org)
    out: dict[uuid.UUID, rules.Limit] = {}
    for (person_id, _), (_, scopes) in found.items():
        limit = rules.limit_in_month(scopes, year, m)
        if limit is not None:
            out[person_id] = limit
    return out


async def raise_flags(
    ctx: ServiceContext, session: AsyncSession, month: str, *, trigger: str, provider_org: str | None = None
) -> int:
    """Flag the month's deliveries far from the decision (the month must be over) and publish
    each flag not raised before; returns how many were new."""
    today = ctx.clock.today()
    if not month_over(month, today):
        return 0
    now = ctx.clock.now()
    rows = []
    for pm in await person_months(session, month, today, provider_org=provider_org):
        if pm.decided is None or pm.district is None:
            continue
        for kind in pm.flags:
            rows.append(
                {
                    "flag_id": rules.flag_id(pm.person_id, pm.provider_org, month, kind.value),
                    "person_id": pm.person_id,
                    "provider_org": pm.provider_org,
                    "district": pm.district,
                    "month": month,
                    "kind": kind.value,
                    "decided_hours": pm.decided.hours,
                    "frame_min_hours": pm.decided.frame_min_hours,
                    "frame_max_hours": pm.decided.frame_max_hours,
                    "delivered_hours": pm.delivered_hours,
                    "trigger": trigger,
                    "flagged_at": now,
                }
            )
    new = await DeliveredRepository(session).add_flags(rows)
    for f in new:
        await ctx.outbox.add(
            session,
            DELIVERY_FLAGGED,
            DeliveryFlagged(
                flag_id=f.flag_id,
                person_id=f.person_id,
                district=f.district,
                provider_org=f.provider_org,
                month=f.month,
                kind=f.kind,
                decided_hours=f.decided_hours,
                frame_min_hours=f.frame_min_hours,
                frame_max_hours=f.frame_max_hours,
                delivered_hours=f.delivered_hours,
                flagged_at=f.flagged_at,
            ),
            subject=str(f.person_id),
        )
    return len(new)


def months_to_sweep(today: date) -> list[str]:
    """The months over for at least GRACE_DAYS, up to LOOKBACK_MONTHS back, oldest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(LOOKBACK_MONTHS):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        _, following = rules.month_bounds(y, m)
        if following + timedelta(days=GRACE_DAYS) <= today:
            out.append(f"{y:04d}-{m:02d}")
    return sorted(out)


async def sweep(ctx: ServiceContext, session: AsyncSession) -> int:
    """Judge each month over for GRACE_DAYS once (for every provider); returns flags raised.

    Once: a month is claimed in the same transaction as its flags, so replicas never judge it
    twice and the loop can run often (a clock moved forward is followed promptly). Visits
    reported for a month after it was judged do not raise its flags from the sweep: a
    private provider's statement judges its month again when issued (the flags are
    idempotent), and the API shows the month as it stands."""
    total = 0
    repo = DeliveredRepository(session)
    for month in await repo.unswept(months_to_sweep(ctx.clock.today())):
        if not await repo.claim_sweep(month, ctx.clock.now()):
            continue
        raised = await raise_flags(ctx, session, month, trigger=MONTH_END_SWEEP)
        await repo.swept(month, raised)
        total += raised
    return total
