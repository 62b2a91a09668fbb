"""Visit batches: validate the whole batch, store all of it or nothing, announce it.

Sending a batch again with the same content answers its receipt and changes nothing; the
same batch id with other content, or a visit id already reported in another batch, is a
conflict. Fast path for large batches: one Rust pass to parse and validate, one COPY for
the visits and one for the outbox rows.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.reports.orders import OrderRef, readable_order, readable_orders
from hjemflyt.notifications.reports.scoping import reading
from hjemflyt.notifications.visits.models import VisitBatch
from hjemflyt.notifications.visits.repository import VisitRepository
from hjemflyt.notifications.visits.rules import visit_day, visit_problems
from hjemflyt.notifications.visits.schemas import (
    BATCH,
    MAX_VISITS,
    VISITS,
    VisitBatchReceipt,
    VisitIn,
    VisitOut,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.contracts.reports import VISITS_REPORTED, VisitsReported
from hjemflyt.shared.platform.audit import Action, LoggedRead
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, NotFound, Problem
from hjemflyt.shared.platform.pagination import Page, decode_cursor, encode_cursor

# A `visits.reported` event holds at most 1,000 visits, and fewer when their measure lists
# are long: it stays well under NATS's 1 MB message limit (a visit is ~450 bytes of JSON).
VISITS_PER_EVENT = 1000
EVENT_BYTES = 600_000
# Events written to the outbox per COPY (bounds the memory of their envelopes).
EVENTS_PER_COPY = 10
# Rows named in a problem answer, at most.
MAX_ROWS_NAMED = 100


class BatchReplayed(Exception):
    """Not an error: the same batch again. Carries the stored receipt."""

    def __init__(self, receipt: VisitBatchReceipt) -> None:
        self.receipt = receipt


def _row_problem(slug: str, status: int, detail: str, rows: list[dict[str, Any]], total: int) -> Problem:
    return Problem(
        detail,
        status=status,
        slug=slug,
        title={404: "Not found", 409: "Conflict with the current state"}.get(status, "Invalid visits"),
        rows=rows[:MAX_ROWS_NAMED],
        rows_total=total,
        rows_named=min(total, MAX_ROWS_NAMED),
    )


def parse(data: bytes) -> list[VisitIn]:
    """The batch's visits, or a 422 naming the malformed rows by index (413 if too many)."""
    try:
        # Strict: what the schema states (no `0` for a date, no `"30"` for minutes), as the
        # platform holds every other JSON body to (platform.app._guard_inputs).
        return BATCH.validate_json(data, strict=True).visits
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
    by_row: dict[int, list[dict[str, Any]]] = {}
    top: list[dict[str, Any]] = []
    for e in errors:
        loc = list(e.get("loc", ()))
        if len(loc) >= 2 and loc[0] == "visits" and isinstance(loc[1], int):
            field = ".".join(str(p) for p in loc[2:]) or None
            by_row.setdefault(loc[1], []).append({"field": field, "rule": e["type"], "message": e["msg"]})
        else:
            if loc == ["visits"] and e["type"] == "too_long":
                raise Problem(
                    f"A batch holds at most {MAX_VISITS} visits; split it into several batches.",
                    status=413,
                    slug="batch-too-large",
                    title="Payload too large",
                    max_visits=MAX_VISITS,
                )
            top.append({"location": loc, "message": e["msg"], "code": e["type"]})
    if top or not by_row:
        raise Problem(
            'The body must be JSON: {"visits": [ ... ]} with 1 to 100,000 visits; see `errors`.',
            status=422,
            slug="validation-error",
            title="Invalid request",
            errors=top[:MAX_ROWS_NAMED],
        )
    rows = [{"index": i, "errors": errs} for i, errs in sorted(by_row.items())]
    raise _row_problem(
        "invalid-visits",
        422,
        f"{len(rows)} visit(s) are malformed; nothing was stored. See `rows` (by index in `visits`).",
        rows,
        len(rows),
    )


def content_hash(visits: list[VisitIn]) -> str:
    return hashlib.sha256(VISITS.dump_json(visits)).hexdigest()


def _receipt(batch: VisitBatch) -> VisitBatchReceipt:
    return VisitBatchReceipt.model_validate(batch.receipt)


async def ingest(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, batch_id: str, data: bytes
) -> VisitBatchReceipt:
    """Store the batch and answer its receipt; `BatchReplayed` if it was stored before."""
    assert principal.provider_org
    provider_org = principal.provider_org
    visits = parse(data)
    digest = content_hash(visits)
    repo = VisitRepository(session)

    existing = await repo.batch(provider_org, batch_id)
    if existing is not None:
        _same_or_conflict(existing, digest)

    now = ctx.clock.now()
    _check_rows(visits, now)
    orders = await readable_orders(session, principal, (v.order_id for v in visits))
    _check_orders(visits, orders)

    receipt = _make_receipt(batch_id, provider_org, visits, orders, digest, now)
    claimed = await repo.add_batch_once(
        {
            "provider_org": provider_org,
            "batch_id": batch_id,
            "content_sha256": digest,
            "visit_count": len(visits),
            "receipt": receipt.model_dump(mode="json"),
            "received_at": now,
            "received_by": principal.subject,
        }
    )
    if not claimed:  # a concurrent request stored this batch id first
        existing = await repo.batch(provider_org, batch_id)
        assert existing is not None
        _same_or_conflict(existing, digest)

    earlier = await repo.reported_elsewhere(provider_org, [v.visit_id for v in visits])
    if earlier:
        named = [
            {"index": i, "visit_id": v.visit_id, "batch_id": earlier[v.visit_id]}
            for i, v in enumerate(visits)
            if v.visit_id in earlier
        ]
        raise _row_problem(
            "visit-already-reported",
            409,
            f"{len(named)} visit id(s) were reported in another batch; nothing was stored. "
            "Correct visits are not supported yet: leave them out.",
            named,
            len(named),
        )

    await repo.copy(_records(provider_org, batch_id, visits, orders, now))
    events = _events(provider_org, batch_id, visits, orders, now)
    while group := list(itertools.islice(events, EVENTS_PER_COPY)):
        await ctx.outbox.add_many(session, group)
    await ctx.access_log.record(
        session,
        principal,
        action=Action.create,
        resource="visit-batch",
        person_ids=sorted({o.person_id for o in orders.values()}),
        purpose="service delivery",
        resource_id=batch_id,
    )
    return receipt


def _same_or_conflict(existing: VisitBatch, digest: str) -> None:
    if existing.content_sha256 == digest:
        raise BatchReplayed(_receipt(existing))
    raise Conflict(
        "This batch id was used for other visits; nothing was stored. Use a new batch id.",
        slug="batch-id-reused",
        batch_id=existing.batch_id,
        received_at=existing.received_at.isoformat(),
    )


def _check_rows(visits: list[VisitIn], now: datetime) -> None:
    bad: dict[int, list[dict[str, Any]]] = {}
    seen: dict[str, int] = {}
    for i, v in enumerate(visits):
        for rule, message in visit_problems(v, now):
            bad.setdefault(i, []).append({"field": None, "rule": rule, "message": message})
        first = seen.setdefault(v.visit_id, i)
        if first != i:
            bad.setdefault(i, []).append(
                {"field": "visit_id", "rule": "duplicate-visit-id", "message": f"also at index {first}"}
            )
    if bad:
        rows = [{"index": i, "visit_id": visits[i].visit_id, "errors": e} for i, e in sorted(bad.items())]
        raise _row_problem(
            "invalid-visits",
            422,
            f"{len(rows)} visit(s) break a rule; nothing was stored. See `rows`.",
            rows,
            len(rows),
        )


def _check_orders(visits: list[VisitIn], orders: dict[uuid.UUID, OrderRef]) -> None:
    unknown = [
        {"index": i, "visit_id": v.visit_id, "order_id": str(v.order_id)}
        for i, v in enumerate(visits)
        if v.order_id not in orders
    ]
    if unknown:
        raise _row_problem(
            "unknown-order",
            404,
            f"{len(unknown)} visit(s) name an order you do not have; nothing was stored.",
            unknown,
            len(unknown),
        )
    ended = []
    for i, v in enumerate(visits):
        order = orders[v.order_id]
        if v.service_type is not None and v.service_type not in order.service_types:
            held = ", ".join(sorted(order.service_types)) or "no service types"
            ended.append(
                {
                    "index": i,
                    "visit_id": v.visit_id,
                    "errors": [
                        {
                            "field": "service_type",
                            "rule": "service-type-not-in-order",
                            "message": f"{v.service_type} is not in the order; it holds {held}",
                        }
                    ],
                }
            )
        elif not order.held:
            ended.append(
                {
                    "index": i,
                    "visit_id": v.visit_id,
                    "errors": [
                        {"field": "order_id", "rule": "order-rejected", "message": "you rejected this order"}
                    ],
                }
            )
        elif order.end_date is not None and order.ended_before(visit_day(v)):
            ended.append(
                {
                    "index": i,
                    "visit_id": v.visit_id,
                    "errors": [
                        {
                            "field": "planned_start",
                            "rule": "order-ended",
                            "message": f"the order ended on {order.end_date.isoformat()}",
                        }
                    ],
                }
            )
    if ended:
        raise _row_problem(
            "invalid-visits",
            422,
            f"{len(ended)} visit(s) are after their order ended, for one you rejected, or name a service "
            "type the order does not hold; nothing stored.",
            ended,
            len(ended),
        )


def _make_receipt(
    batch_id: str,
    provider_org: str,
    visits: list[VisitIn],
    orders: dict[uuid.UUID, OrderRef],
    digest: str,
    now: datetime,
) -> VisitBatchReceipt:
    starts = [v.planned_start for v in visits]
    return VisitBatchReceipt(
        batch_id=batch_id,
        provider_org=provider_org,
        visits=len(visits),
        cancelled=sum(1 for v in visits if v.cancelled),
        orders=len(orders),
        persons=len({o.person_id for o in orders.values()}),
        first_planned_start=min(starts),
        last_planned_start=max(starts),
        content_sha256=digest,
        events=len(chunks(visits)),
        received_at=now,
    )


def chunks(visits: list[VisitIn]) -> list[tuple[int, int]]:
    """(start, end) slices of the batch, one per event."""
    out: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, v in enumerate(visits):
        estimate = 450 + sum(len(m) + 3 for m in v.measures_done)
        if i > start and (i - start >= VISITS_PER_EVENT or size + estimate > EVENT_BYTES):
            out.append((start, i))
            start, size = i, 0
        size += estimate
    out.append((start, len(visits)))
    return out


def _records(
    provider_org: str,
    batch_id: str,
    visits: list[VisitIn],
    orders: dict[uuid.UUID, OrderRef],
    now: datetime,
) -> list[tuple[Any, ...]]:
    out = []
    for v in visits:
        o = orders[v.order_id]
        out.append(
            (
                provider_org,
                v.visit_id,
                batch_id,
                v.order_id,
                o.person_id,
                o.district,
                v.planned_start,
                v.planned_end,
                v.actual_start,
                v.actual_end,
                v.staff_id,
                list(v.measures_done),
                v.cancelled,
                v.cancel_cause.value if v.cancel_cause else None,
                now,
            )
        )
    return out


def _events(
    provider_org: str,
    batch_id: str,
    visits: list[VisitIn],
    orders: dict[uuid.UUID, OrderRef],
    now: datetime,
) -> Iterator[tuple[EventType[Any], VisitsReported, str]]:
    """The batch's `visits.reported` events, one chunk at a time (built lazily: a whole
    batch of event models at once would double the request's memory)."""
    slices = chunks(visits)
    # A visit that does not name its service type has the order's, when the order has one.
    sole = {o.id: next(iter(o.service_types)) if len(o.service_types) == 1 else None for o in orders.values()}
    for n, (start, end) in enumerate(slices):
        reported = []
        for v in visits[start:end]:
            o = orders[v.order_id]
            reported.append(
                {
                    "visit_id": v.visit_id,
                    "order_id": v.order_id,
                    "person_id": o.person_id,
                    "district": o.district,
                    "planned_start": v.planned_start,
                    "planned_end": v.planned_end,
                    "service_type": v.service_type or sole[v.order_id],
                    "actual_start": v.actual_start,
                    "actual_end": v.actual_end,
                    "staff_id": v.staff_id,
                    "measures_done": v.measures_done,
                    "cancelled": v.cancelled,
                    "cancel_cause": v.cancel_cause.value if v.cancel_cause else None,
                }
            )
        # Validated from plain dicts (in Rust): several times faster than model_construct.
        data = VisitsReported.model_validate(
            {
                "provider_org": provider_org,
                "batch_id": batch_id,
                "chunk": n + 1,
                "chunks": len(slices),
                "visits": reported,
                "reported_at": now,
            }
        )
        yield VISITS_REPORTED, data, f"{provider_org}/{batch_id}/{n + 1}"


async def receipt(session: AsyncSession, provider_org: str, batch_id: str) -> VisitBatchReceipt:
    batch = await VisitRepository(session).batch(provider_org, batch_id)
    if batch is None:
        raise NotFound("No such visit batch.")
    return VisitBatchReceipt.model_validate(batch.receipt)


async def order_visits(
    session: AsyncSession,
    principal: Principal,
    order_id: uuid.UUID,
    log_read: LoggedRead,
    *,
    limit: int,
    cursor: str | None,
) -> Page[VisitOut]:
    """The visits of an order the principal sees, by planned start (an unknown order 404s
    before a bad cursor 400s)."""
    order = await readable_order(session, principal, order_id)
    after = None
    values = decode_cursor(cursor)
    if values is not None:
        try:
            after = (datetime.fromisoformat(values["planned_start"]), str(values["visit_id"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise Problem(
                "The cursor is not one this API gave out.", slug="invalid-cursor", status=400
            ) from exc
    visits = await VisitRepository(session).for_order(principal, order_id, limit=limit, after=after)
    await reading(log_read)("visit-list", [order.person_id], resource_id=str(order_id))
    next_cursor = None
    if len(visits) == limit:
        last = visits[-1]
        next_cursor = encode_cursor(
            {"planned_start": last.planned_start.isoformat(), "visit_id": last.visit_id}
        )
    return Page[VisitOut](items=[VisitOut.model_validate(v) for v in visits], next_cursor=next_cursor)
