"""Case-office tasks: opened once per (kind, reference), visible in their district only,
closed once; each step an event for pathway's worklists."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.tasks import service
from hjemflyt.notifications.tasks.rules import TaskKind
from hjemflyt.shared.contracts.events import TASK_CLOSED, TASK_OPENED
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, running_service


async def events(ctx, event_type) -> list[dict]:
    outbox = platform_tables.outbox
    async with ctx.sessionmaker() as s:
        rows = await s.scalars(select(outbox.c.envelope).where(outbox.c.type == event_type.name))
        return [json.loads(bytes(e))["data"] for e in rows]


async def test_a_task_is_opened_once_seen_in_its_district_and_closed_once(settings, issuer):
    async with running_service(create_app, settings) as client:
        ctx = client.app.state.ctx
        reference, person = uuid.uuid4(), uuid.uuid4()
        async with ctx.sessionmaker() as session, session.begin():
            first = await service.open_task(
                ctx,
                session,
                TaskKind.order_rejected,
                reference_id=reference,
                district="frogner",
                person_id=person,
            )
            again = await service.open_task(
                ctx,
                session,
                TaskKind.order_rejected,
                reference_id=reference,
                district="frogner",
                person_id=person,
            )
        assert first is not None
        assert again is None

        officer = auth(issuer, Role.case_officer, districts=["frogner"], subject="officer-1")
        listed = (await client.get("/v1/tasks", headers=officer)).json()["items"]
        assert [t["id"] for t in listed] == [str(first.id)]
        assert listed[0]["title"].startswith("The provider rejected the order")
        elsewhere = auth(issuer, Role.case_officer, districts=["grorud"])
        assert (await client.get("/v1/tasks", headers=elsewhere)).json()["items"] == []
        assert (await client.get(f"/v1/tasks/{first.id}", headers=elsewhere)).status_code == 404
        provider = auth(issuer, Role.provider, provider_org="974760673")
        assert (await client.get("/v1/tasks", headers=provider)).status_code == 403
        lead = auth(issuer, Role.service_lead, districts=["frogner"])
        assert (
            await client.post(f"/v1/tasks/{first.id}/close", json={"resolution": "x"}, headers=lead)
        ).status_code == 403

        url = f"/v1/tasks/{first.id}/close"
        assert (await client.post(url, json={"resolution": ""}, headers=officer)).status_code == 422
        r = await client.post(url, json={"resolution": "Ny leverandør valgt"}, headers=officer)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "done"
        assert r.json()["closed_by"] == "officer-1"
        second = await client.post(url, json={"resolution": "igjen"}, headers=officer)
        assert second.status_code == 409
        assert second.json()["type"].endswith("/task-closed")
        assert (await client.get("/v1/tasks", headers=officer)).json()["items"] == []
        done = (await client.get("/v1/tasks", params={"status": "done"}, headers=officer)).json()["items"]
        assert [t["resolution"] for t in done] == ["Ny leverandør valgt"]

        opened, closed = await events(ctx, TASK_OPENED), await events(ctx, TASK_CLOSED)
        assert [e["task_id"] for e in opened] == [str(first.id)]
        assert [(e["task_id"], e["resolution"]) for e in closed] == [(str(first.id), "Ny leverandør valgt")]
