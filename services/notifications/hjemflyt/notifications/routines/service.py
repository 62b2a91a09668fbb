"""The district routine registry: municipality-wide templates and district overrides,
versioned (draft -> comment period -> published), pushed to the providers they concern,
acknowledged by them, with reminders when they do not.

Orders call `routines_reference` to say which routines applied when they were issued.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages import acks
from hjemflyt.notifications.messages.models import Message
from hjemflyt.notifications.messages.repository import MessageRepository
from hjemflyt.notifications.messages.service import enqueue
from hjemflyt.notifications.providers.models import Provider
from hjemflyt.notifications.providers.repository import ProviderRepository
from hjemflyt.notifications.routines import rules
from hjemflyt.notifications.routines.models import Routine, RoutineComment, RoutineDelivery, RoutineVersion
from hjemflyt.notifications.routines.repository import RoutineRepository
from hjemflyt.notifications.routines.rules import VersionStatus
from hjemflyt.notifications.routines.schemas import (
    AcknowledgementOut,
    CommentOut,
    EffectiveRoutine,
    EffectiveSet,
    RoutineIn,
    RoutineOut,
    RoutineSummary,
    VersionOut,
    VersionPatch,
)
from hjemflyt.notifications.tasks import service as tasks
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.shared.contracts.routines import (
    ROUTINE_ACKNOWLEDGED,
    ROUTINE_PUBLISHED,
    RoutineAcknowledged,
    RoutinePublished,
)
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Forbidden, NotFound

COMMENT_REQUESTED = "routine.comment_requested"
PUBLISHED = "routine.published"
REMINDER = "routine.reminder"


async def routines_reference(session: AsyncSession, district: str) -> dict[str, Any] | None:
    """What an order says about the district's routines: the published set in force for
    `district` ({"district", "version", "published_at"}), or None if nothing is published
    yet. `version` counts the publications that have affected the district, so it grows
    with every one; GET /v1/routines?district=... shows the set."""
    version, published_at = await RoutineRepository(session).district_version(district)
    if version == 0 or published_at is None:
        return None
    return {"district": district, "version": version, "published_at": published_at.isoformat()}


# --- reading ---------------------------------------------------------------------------


def _is_provider(principal: Principal) -> bool:
    return principal.role == Role.provider


async def _concerned(
    repo: RoutineRepository, routine: Routine, providers: list[Provider]
) -> list[tuple[Provider, list[str]]]:
    overridden = await repo.overridden_districts(routine.key) if routine.district is None else set()
    out = []
    for provider in providers:
        districts = rules.concerned_districts(routine.district, provider.districts, overridden)
        if districts:
            out.append((provider, districts))
    return out


async def _providers_concerned(
    session: AsyncSession, repo: RoutineRepository, routine: Routine
) -> list[tuple[Provider, list[str]]]:
    providers = ProviderRepository(session)
    if routine.district is None:
        candidates = list(await providers.list())
    else:
        candidates = list(await providers.in_districts({routine.district}))
    return await _concerned(repo, routine, candidates)


async def _provider_concerned(
    session: AsyncSession, repo: RoutineRepository, routine: Routine, provider_org: str | None
) -> bool:
    provider = await ProviderRepository(session).get(provider_org) if provider_org else None
    return provider is not None and bool(await _concerned(repo, routine, [provider]))


async def effective_set(session: AsyncSession, district: str) -> EffectiveSet:
    repo = RoutineRepository(session)
    latest = {(r.key, r.district): (r, v) for r, v in await repo.latest_published(district)}
    chosen = rules.effective(district, latest)
    version, published_at = await repo.district_version(district)
    return EffectiveSet(
        district=district,
        version=version,
        published_at=published_at,
        routines=[
            EffectiveRoutine(
                routine_id=r.id,
                version_id=v.id,
                kind=rules.RoutineKind(r.kind),
                key=r.key,
                district=r.district,
                number=v.number,
                title=v.title,
                body=v.body,
                published_at=v.published_at,
            )
            for key, (r, v) in sorted(chosen.items())
            if v.published_at is not None
        ],
    )


async def summaries(session: AsyncSession) -> list[RoutineSummary]:
    repo = RoutineRepository(session)
    latest = {r.id: v for r, v in await repo.latest_published(None)}
    out = []
    for r in await repo.list():
        v = latest.get(r.id)
        out.append(
            RoutineSummary(
                id=r.id,
                kind=rules.RoutineKind(r.kind),
                key=r.key,
                district=r.district,
                published_number=v.number if v else None,
                published_at=v.published_at if v else None,
            )
        )
    return out


async def read(session: AsyncSession, principal: Principal, routine_id: uuid.UUID) -> RoutineOut:
    """The routine with its versions and acknowledgements. The case office sees everything;
    a provider sees published versions, versions in a comment period that concern it, and
    only its own acknowledgements; never drafts."""
    repo = RoutineRepository(session)
    routine = await repo.get(routine_id)
    if routine is None:
        raise NotFound("No such routine.")
    versions = list(await repo.versions(routine_id))
    provider_org = principal.provider_org if _is_provider(principal) else None
    if _is_provider(principal):
        concerned = await _provider_concerned(session, repo, routine, provider_org)
        visible = rules.PUBLISHED | ({VersionStatus.comment} if concerned else set())
        versions = [v for v in versions if v.status in visible]
        if not versions:
            raise NotFound("No such routine.")
    deliveries = await repo.deliveries(routine_id, provider_org)
    by_version: dict[uuid.UUID, list[AcknowledgementOut]] = {}
    for d in deliveries:
        by_version.setdefault(d.version_id, []).append(AcknowledgementOut.model_validate(d))
    return RoutineOut(
        id=routine.id,
        kind=rules.RoutineKind(routine.kind),
        key=routine.key,
        district=routine.district,
        created_at=routine.created_at,
        versions=[_version_out(v, by_version.get(v.id, [])) for v in versions],
    )


def _version_out(v: RoutineVersion, acknowledgements: list[AcknowledgementOut]) -> VersionOut:
    return VersionOut(
        id=v.id,
        number=v.number,
        status=VersionStatus(v.status),
        title=v.title,
        body=v.body,
        comment_until=v.comment_until,
        created_at=v.created_at,
        created_by=v.created_by,
        updated_at=v.updated_at,
        published_at=v.published_at,
        acknowledgements=acknowledgements,
    )


async def acknowledgements_of(
    session: AsyncSession, principal: Principal, routine_id: uuid.UUID, provider_org: str
) -> list[AcknowledgementOut]:
    """One provider's acknowledgements of a routine; another provider's answer 404."""
    if _is_provider(principal) and principal.provider_org != provider_org:
        raise NotFound("No such provider for this routine.")
    repo = RoutineRepository(session)
    if await repo.get(routine_id) is None:
        raise NotFound("No such routine.")
    deliveries = await repo.deliveries(routine_id, provider_org)
    if not deliveries:
        raise NotFound("This routine was not pushed to that provider.")
    return [AcknowledgementOut.model_validate(d) for d in deliveries]


# --- writing ---------------------------------------------------------------------------


async def _routine(repo: RoutineRepository, routine_id: uuid.UUID) -> Routine:
    routine = await repo.get(routine_id, for_update=True)
    if routine is None:
        raise NotFound("No such routine.")
    return routine


async def _version(
    repo: RoutineRepository, routine_id: uuid.UUID, number: int
) -> tuple[Routine, RoutineVersion]:
    routine = await _routine(repo, routine_id)
    version = await repo.version(routine_id, number, for_update=True)
    if version is None:
        raise NotFound("No such version of the routine.")
    return routine, version


async def create(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, body: RoutineIn
) -> RoutineOut:
    repo = RoutineRepository(session)
    kinds = await repo.kinds_of_key(body.key)
    if kinds and kinds != {body.kind.value}:
        raise Conflict(
            "Overrides must be of the same kind as the template with that key.",
            slug="routine-kind-mismatch",
            kind=sorted(kinds)[0],
        )
    now = ctx.clock.now()
    routine = await repo.add_routine(
        {
            "id": uuid.uuid4(),
            "kind": body.kind.value,
            "key": body.key,
            "district": body.district,
            "created_at": now,
            "created_by": principal.subject,
        }
    )
    if routine is None:
        existing = await repo.by_key(body.key, body.district)
        raise Conflict(
            "A routine with this key already exists here; add a version to it.",
            slug="routine-exists",
            routine_id=str(existing.id) if existing else None,
        )
    await repo.add_version(_new_version(routine.id, 1, body.title, body.body, principal, now))
    return await read(session, principal, routine.id)


def _new_version(
    routine_id: uuid.UUID, number: int, title: str, body: str, principal: Principal, now: datetime
) -> RoutineVersion:
    return RoutineVersion(
        id=uuid.uuid4(),
        routine_id=routine_id,
        number=number,
        status=VersionStatus.draft.value,
        title=title,
        body=body,
        created_at=now,
        created_by=principal.subject,
        updated_at=now,
    )


async def new_draft(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    routine_id: uuid.UUID,
    title: str,
    body: str,
) -> VersionOut:
    repo = RoutineRepository(session)
    routine = await _routine(repo, routine_id)  # locked: numbers are given one at a time
    open_versions = [v for v in await repo.versions(routine.id) if v.status in rules.OPEN]
    if open_versions:
        raise Conflict(
            "The routine already has a version in the making; change that one.",
            slug="routine-version-open",
            number=open_versions[0].number,
        )
    number = await repo.next_number(routine.id)
    version = await repo.add_version(
        _new_version(routine.id, number, title, body, principal, ctx.clock.now())
    )
    return _version_out(version, [])


async def edit(
    ctx: ServiceContext, session: AsyncSession, routine_id: uuid.UUID, number: int, patch: VersionPatch
) -> VersionOut:
    repo = RoutineRepository(session)
    _, version = await _version(repo, routine_id, number)
    rules.check_editable(version.status)
    if patch.title is not None:
        version.title = patch.title
    if patch.body is not None:
        version.body = patch.body
    version.updated_at = ctx.clock.now()
    await session.flush()
    return _version_out(version, [])


async def open_comment_period(
    ctx: ServiceContext, session: AsyncSession, routine_id: uuid.UUID, number: int, until: date
) -> VersionOut:
    repo = RoutineRepository(session)
    routine, version = await _version(repo, routine_id, number)
    rules.check_comment_period(version.status, until, ctx.clock.today())
    version.status = VersionStatus.comment.value
    version.comment_until = until
    version.updated_at = ctx.clock.now()
    await session.flush()
    for provider, districts in await _providers_concerned(session, repo, routine):
        await enqueue(
            ctx,
            session,
            provider_org=provider.provider_org,
            kind=COMMENT_REQUESTED,
            district=routine.district,
            reference_id=version.id,
            body={
                **_document(routine, version),
                "districts": districts,
                "comment_until": until.isoformat(),
                "comments_path": f"/v1/routines/{routine.id}/versions/{version.number}/comments",
            },
        )
    return _version_out(version, [])


def _document(routine: Routine, version: RoutineVersion) -> dict[str, Any]:
    return {
        "routine_id": str(routine.id),
        "version_id": str(version.id),
        "number": version.number,
        "key": routine.key,
        "kind": routine.kind,
        "district": routine.district,
        "title": version.title,
        "body": version.body,
    }


async def comment(
    ctx: ServiceContext,
    session: AsyncSession,
    principal: Principal,
    routine_id: uuid.UUID,
    number: int,
    text: str,
) -> CommentOut:
    if not _is_provider(principal) or principal.provider_org is None:
        raise Forbidden("Comments are the providers'; the author edits the draft.")
    repo = RoutineRepository(session)
    routine = await repo.get(routine_id)
    version = await repo.version(routine_id, number) if routine else None
    if (
        routine is None
        or version is None
        or version.status == VersionStatus.draft
        or not await _provider_concerned(session, repo, routine, principal.provider_org)
    ):
        raise NotFound("No such routine version open to you.")
    rules.check_commentable(version.status, version.comment_until, ctx.clock.today())
    added = await repo.add_comment(
        RoutineComment(
            id=uuid.uuid4(),
            version_id=version.id,
            provider_org=principal.provider_org,
            author=principal.subject,
            text=text,
            created_at=ctx.clock.now(),
        )
    )
    return CommentOut.model_validate(added)


async def comments(
    session: AsyncSession, principal: Principal, routine_id: uuid.UUID, number: int
) -> list[CommentOut]:
    """The case office (the author) sees every comment; a provider its own."""
    repo = RoutineRepository(session)
    routine = await repo.get(routine_id)
    version = await repo.version(routine_id, number) if routine else None
    if routine is None or version is None:
        raise NotFound("No such routine version.")
    provider_org = None
    if _is_provider(principal):
        provider_org = principal.provider_org
        if version.status == VersionStatus.draft or not await _provider_concerned(
            session, repo, routine, provider_org
        ):
            raise NotFound("No such routine version.")
    return [CommentOut.model_validate(c) for c in await repo.comments(version.id, provider_org)]


async def publish(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, routine_id: uuid.UUID, number: int
) -> VersionOut:
    repo = RoutineRepository(session)
    routine, version = await _version(repo, routine_id, number)
    rules.check_publishable(version.status, version.comment_until, ctx.clock.today())
    now = ctx.clock.now()
    await repo.supersede_published(routine.id, except_id=version.id)
    # Older unanswered publications need no answer any more: the provider sees them as
    # superseded and the acknowledgement sweep skips them.
    replaced = await repo.supersede_awaiting(routine.id, except_version=version.id)
    await MessageRepository(session).supersede_awaiting(message_ids=replaced)
    version.status = VersionStatus.published.value
    version.published_at = now
    version.published_by = principal.subject
    version.updated_at = now
    await session.flush()

    deadline = rules.ack_deadline(now, ctx.settings.routine_ack_days)
    concerned = await _providers_concerned(session, repo, routine)
    acknowledgements = []
    for provider, districts in concerned:
        message = await enqueue(
            ctx,
            session,
            provider_org=provider.provider_org,
            kind=PUBLISHED,
            district=routine.district,
            reference_id=version.id,
            ack_deadline=deadline,
            body={**_document(routine, version), "districts": districts, "published_at": now.isoformat()},
        )
        delivery = await repo.add_delivery(
            RoutineDelivery(
                id=uuid.uuid4(),
                routine_id=routine.id,
                version_id=version.id,
                provider_org=provider.provider_org,
                message_id=message.id,
                district=routine.district,
                status="awaiting",
                ack_deadline=deadline,
                reminders_sent=0,
                created_at=now,
            )
        )
        acknowledgements.append(AcknowledgementOut.model_validate(delivery))
    await ctx.outbox.add(
        session,
        ROUTINE_PUBLISHED,
        RoutinePublished(
            routine_id=routine.id,
            version_id=version.id,
            number=version.number,
            key=routine.key,
            kind=routine.kind,
            district=routine.district,
            title=version.title,
            published_at=now,
            districts=sorted({d for _, ds in concerned for d in ds}),
            provider_orgs=[p.provider_org for p, _ in concerned],
            ack_deadline=deadline,
        ),
        subject=str(routine.id),
    )
    return _version_out(version, acknowledgements)


# --- acknowledgements and reminders --------------------------------------------------------


async def _remind(ctx: ServiceContext, session: AsyncSession, delivery: RoutineDelivery) -> None:
    version = await RoutineRepository(session).version_by_id(delivery.version_id)
    assert version is not None
    now = ctx.clock.now()
    delivery.reminders_sent += 1
    delivery.last_reminded_at = now
    await enqueue(
        ctx,
        session,
        provider_org=delivery.provider_org,
        kind=REMINDER,
        district=delivery.district,
        reference_id=delivery.version_id,
        body={
            "routine_id": str(delivery.routine_id),
            "version_id": str(delivery.version_id),
            "number": version.number,
            "title": version.title,
            "message_id": str(delivery.message_id),
            "ack_deadline": delivery.ack_deadline.isoformat(),
            "reminder": delivery.reminders_sent,
        },
    )
    await session.flush()


async def send_due_reminders(ctx: ServiceContext, session: AsyncSession, *, limit: int = 200) -> int:
    """Remind each provider that has not acknowledged a publication after
    `routine_reminder_after_days`, at most once per `routine_reminder_interval_days`."""
    now = ctx.clock.now()
    due = await RoutineRepository(session).due_reminders(
        sent_before=now - timedelta(days=ctx.settings.routine_reminder_after_days),
        reminded_before=now - timedelta(days=ctx.settings.routine_reminder_interval_days),
        limit=limit,
    )
    for delivery in due:
        await _remind(ctx, session, delivery)
    return len(due)


async def _acknowledged(ctx: ServiceContext, session: AsyncSession, message: Message, accepted: bool) -> None:
    repo = RoutineRepository(session)
    delivery = await repo.delivery_by_message(message.id)
    if delivery is None or delivery.status not in ("awaiting", "superseded"):
        return  # not a publication, or already answered
    version = await repo.version_by_id(delivery.version_id)
    assert version is not None
    now = message.acked_at or ctx.clock.now()
    delivery.status = "accepted" if accepted else "rejected"
    delivery.acknowledged_at = now
    delivery.reason = message.ack_reason
    await session.flush()
    if accepted:
        await tasks.close_for_reference(
            ctx,
            session,
            TaskKind.routine_unacknowledged,
            message.id,
            by=f"provider:{delivery.provider_org}",
            resolution="The provider acknowledged the routine.",
        )
    else:
        await tasks.open_task(
            ctx,
            session,
            TaskKind.routine_unacknowledged,
            reference_id=message.id,
            district=delivery.district,
            provider_org=delivery.provider_org,
            title="A provider rejected a published routine",
            details={
                "routine_id": str(delivery.routine_id),
                "version_id": str(delivery.version_id),
                "number": version.number,
                "rejected": True,
                "reason": message.ack_reason,
            },
        )
    await ctx.outbox.add(
        session,
        ROUTINE_ACKNOWLEDGED,
        RoutineAcknowledged(
            routine_id=delivery.routine_id,
            version_id=delivery.version_id,
            number=version.number,
            provider_org=delivery.provider_org,
            message_id=message.id,
            accepted=accepted,
            acknowledged_at=now,
        ),
        subject=str(delivery.routine_id),
    )


async def on_accepted(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    await _acknowledged(ctx, session, message, True)


async def on_rejected(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    await _acknowledged(ctx, session, message, False)


async def on_overdue(ctx: ServiceContext, session: AsyncSession, message: Message) -> None:
    """The deadline passed without an answer: a task for the case office, and a reminder
    to the provider (unless a newer version replaced this one meanwhile)."""
    repo = RoutineRepository(session)
    delivery = await repo.delivery_by_message(message.id)
    if delivery is None or delivery.status != "awaiting":
        return
    version = await repo.version_by_id(delivery.version_id)
    assert version is not None
    await tasks.open_task(
        ctx,
        session,
        TaskKind.routine_unacknowledged,
        reference_id=message.id,
        district=delivery.district,
        provider_org=delivery.provider_org,
        details={
            "routine_id": str(delivery.routine_id),
            "version_id": str(delivery.version_id),
            "number": version.number,
            "ack_deadline": delivery.ack_deadline.isoformat(),
            "reminders_sent": delivery.reminders_sent,
        },
        due_date=ctx.clock.today(),
    )
    await _remind(ctx, session, delivery)


# What follows a provider's answer to a routine message (registered in main.py).
ACK_HANDLERS = acks.AckHandlers(accepted=on_accepted, rejected=on_rejected, overdue=on_overdue)
