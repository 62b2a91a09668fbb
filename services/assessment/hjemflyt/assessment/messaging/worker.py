"""The message worker: sends stored messages through the transport, reads the inbox
(AppRecs matched, other messages answered), and raises tasks for receipts that did not come.

Each step in its own transaction: a message is marked sent in the transaction that handed
it over (the directory transport's file is named by MsgId, so a retry after a crash replaces
it); an incoming file is moved away only after its transaction committed (a crash before
that reads it again, and its MsgId makes the second reading a no-op)."""

from __future__ import annotations

import asyncio
import logging

from hjemflyt.assessment.messaging import service
from hjemflyt.assessment.messaging.transport.base import Transport
from hjemflyt.assessment.messaging.transport.directory import DirectoryTransport
from hjemflyt.assessment.messaging.transport.http import HttpTransport
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work

log = logging.getLogger(__name__)

BATCH = 50


def transport(ctx: ServiceContext) -> Transport:
    settings = ctx.settings
    if settings.plo_transport == "http":
        assert settings.plo_http_url is not None  # the settings refuse http without a URL
        return HttpTransport(
            settings.plo_http_url,
            service.own_her_ids(settings),
            token=settings.plo_http_token.get_secret_value() if settings.plo_http_token else None,
            source_system=settings.plo_http_source_system,
            timeout=settings.plo_http_timeout_seconds,
        )
    return DirectoryTransport(settings.plo_directory or settings.data_dir / "plo")


async def run_once(ctx: ServiceContext, channel: Transport) -> dict[str, int]:
    done = {"sent": 0, "received": 0, "overdue": 0}
    while True:
        async with unit_of_work(ctx.sessionmaker) as session:
            count = await service.send_pending(ctx, session, channel, limit=BATCH)
        done["sent"] += count
        if count < BATCH:
            break
    for incoming in await asyncio.to_thread(channel.receive, BATCH):
        try:
            async with unit_of_work(ctx.sessionmaker) as session:
                outcome = await service.receive(ctx, session, incoming.body)
        except Exception:
            log.exception("could not store incoming message %s; trying again later", incoming.name)
            continue
        await asyncio.to_thread(channel.done, incoming)
        log.info("incoming message %s: %s", incoming.name, outcome)
        done["received"] += 1
    if done["received"]:  # receipts for what came in go out in this round
        async with unit_of_work(ctx.sessionmaker) as session:
            done["sent"] += await service.send_pending(ctx, session, channel, limit=BATCH)
    async with unit_of_work(ctx.sessionmaker) as session:
        done["overdue"] = await service.flag_overdue(ctx, session)
    return done
