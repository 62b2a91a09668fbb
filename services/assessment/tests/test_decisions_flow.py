"""A decision made over HTTP is stored with its events in the outbox and reaches the bus."""

from __future__ import annotations

import json

from sqlalchemy import func, select, text

from hjemflyt.assessment.db import platform_tables
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderKind, ProviderRegistered
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.testing import auth, eventually, running_service

PROVIDER = "320000009"


async def seed_provider(client, settings) -> None:
    """Publish a provider registration the way notifications would, and wait for assessment to learn it."""
    bus = Bus(settings, name="test")
    await bus.connect()
    try:
        await bus.ensure_stream("notifications")
        event = {
            "specversion": "1.0",
            "id": "5d1f2a0e-0000-4000-8000-000000000001",
            "source": "/hjemflyt/notifications",
            "type": PROVIDER_REGISTERED.name,
            "subject": PROVIDER,
            "time": "2026-11-22T10:00:00Z",
            "datacontenttype": "application/json",
            "dataschema": PROVIDER_REGISTERED.dataschema,
            "tenant": settings.tenant,
            "data": ProviderRegistered(
                provider_org=PROVIDER,
                name="Omsorgspartner Demo AS",
                kind=ProviderKind.private,
                service_codes=["1", "15"],
                districts=["frogner"],
                version=1,
            ).model_dump(mode="json"),
        }
        await bus.js.publish(
            PROVIDER_REGISTERED.subject(settings.bus_namespace, settings.tenant), json.dumps(event).encode()
        )
    finally:
        await bus.close()


async def test_decision_is_stored_with_its_events(settings, issuer):
    integration = auth(issuer, Role.integration)
    async with running_service(create_app, settings) as client:
        await seed_provider(client, settings)
        r = await client.put(
            "/v1/districts/frogner",
            json={
                "name": "Bydel Frogner",
                "organisation_model": "purchaser_provider",
                "case_office": "Forvaltning",
            },
            headers=integration,
        )
        assert r.status_code == 200, r.text

        async def provider_known():
            r = await client.get("/v1/providers", headers=integration)
            assert [p["provider_org"] for p in r.json()] == [PROVIDER]

        await eventually(provider_known)
        number = next(iter(synthetic_identity_numbers(1, seed=7)))
        r = await client.post(
            "/v1/persons",
            json={
                "identity_number": number,
                "name": "Kari Nordmann",
                "address": "Eksempelveien 1",
                "district": "frogner",
            },
            headers=integration,
        )
        assert r.status_code == 201, r.text
        person_id = r.json()["id"]
        r = await client.post(
            "/v1/decisions",
            json={
                "person_id": person_id,
                "start_date": "2026-12-01",
                "services": [{"service_code": "15", "hours_per_month": "12.5", "provider_org": PROVIDER}],
            },
            headers=integration,
        )
        assert r.status_code == 201, r.text

        ctx = client.app.state.ctx
        outbox = platform_tables.outbox

        async def published():
            async with ctx.sessionmaker() as s:
                rows = (await s.execute(select(outbox.c.type, outbox.c.published_at))).all()
            assert sorted(t for t, _ in rows) == [
                "no.hjemflyt.assessment.decision.made.v1",
                "no.hjemflyt.assessment.order.issued.v1",
            ]
            assert all(p is not None for _, p in rows)

        await eventually(published)
        info = await ctx.bus.js.stream_info(ctx.bus.stream_for("assessment"))
        assert info.state.messages == 2

        # The decision event is pseudonymous: no identity number or name on the bus except in the order.
        async with ctx.sessionmaker() as s:
            envelopes = dict((await s.execute(select(outbox.c.type, outbox.c.envelope))).all())
            assert await s.scalar(select(func.count()).select_from(platform_tables.access_log)) >= 2
            assert (await s.execute(text("select count(*) from assessment.person"))).scalar() == 1
        made = envelopes["no.hjemflyt.assessment.decision.made.v1"].decode()
        assert number not in made
        assert "Kari" not in made
        assert number in envelopes["no.hjemflyt.assessment.order.issued.v1"].decode()
