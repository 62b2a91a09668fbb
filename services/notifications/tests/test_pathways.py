"""The person's pathway as notifications knows it: a read model of pathway's
`pathway.opened` / `pathway.closed`, consumed from pathway's stream through the inbox, and
named in the orders issued while it is open."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from identity_corpus import VALID_NUMBERS, make_org_number
from sqlalchemy import func, select

from hjemflyt.notifications.db import platform_tables
from hjemflyt.notifications.main import create_app
from hjemflyt.notifications.pathways.models import PersonPathway
from hjemflyt.notifications.pathways.service import pathway_reference
from hjemflyt.shared.contracts.events import ORDER_ISSUED, DecidedService, OrderIssued, OrderRecipient
from hjemflyt.shared.contracts.pathway import PATHWAY_CLOSED, PATHWAY_OPENED, PathwayClosed, PathwayOpened
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.testing import auth, eventually, publish_event, running_service, suite_now, suite_today

ORG = make_org_number("81234567")
NUMBER = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
TODAY = suite_today()


@pytest.fixture
async def client(settings, issuer):
    async with running_service(create_app, settings) as client:
        r = await client.put(
            f"/v1/providers/{ORG}",
            json={"name": "Omsorg AS", "kind": "private", "service_codes": ["15"], "districts": ["frogner"]},
            headers=auth(issuer, Role.integration),
        )
        assert r.status_code in (200, 201), r.text
        yield client


def opened(person_id: uuid.UUID, pathway_id: uuid.UUID, kind: int = 1) -> PathwayOpened:
    return PathwayOpened(
        pathway_id=pathway_id,
        person_id=person_id,
        district="frogner",
        kind=kind,
        opened_on=TODAY,
        planned_end=TODAY + timedelta(days=14),
        source="referral.received",
        opened_at=suite_now(),
    )


def closed(person_id: uuid.UUID, pathway_id: uuid.UUID) -> PathwayClosed:
    return PathwayClosed(
        pathway_id=pathway_id,
        person_id=person_id,
        district="frogner",
        kind=1,
        opened_on=TODAY,
        planned_end=TODAY + timedelta(days=14),
        closed_on=TODAY + timedelta(days=10),
        outcome="increased",
        overdue=False,
        closed_at=suite_now(),
    )


async def reference(client, person_id: uuid.UUID):
    async with client.app.state.ctx.sessionmaker() as s:
        return await pathway_reference(s, person_id)


async def handled(client, n: int) -> None:
    async def there():
        async with client.app.state.ctx.sessionmaker() as s:
            inbox = platform_tables.inbox
            count = await s.scalar(
                select(func.count()).select_from(inbox).where(inbox.c.type.like("%pathway%"))
            )
            assert count == n

    await eventually(there)


async def test_the_open_pathway_is_known_and_a_closed_one_is_not(client, settings):
    person, pathway = uuid.uuid4(), uuid.uuid4()
    event = await publish_event(settings, PATHWAY_OPENED, opened(person, pathway), subject=str(pathway))
    await handled(client, 1)
    assert await reference(client, person) == {
        "pathway_id": str(pathway),
        "kind": 1,
        "opened_on": TODAY.isoformat(),
        "planned_end": (TODAY + timedelta(days=14)).isoformat(),
    }
    # Redelivered (same event id, past JetStream's dedupe): the inbox makes it once.
    await publish_event(
        settings,
        PATHWAY_OPENED,
        opened(person, pathway),
        subject=str(pathway),
        event_id=event.id,
        msg_id="again",
    )
    await publish_event(settings, PATHWAY_CLOSED, closed(person, pathway), subject=str(pathway))
    await handled(client, 2)
    assert await reference(client, person) is None
    # A late `opened` of the closed pathway does not reopen it.
    await publish_event(settings, PATHWAY_OPENED, opened(person, pathway), subject=str(pathway))
    await handled(client, 3)
    assert await reference(client, person) is None
    async with client.app.state.ctx.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(PersonPathway)) == 1


async def test_a_close_seen_before_its_open_is_kept_closed(client, settings):
    person, pathway = uuid.uuid4(), uuid.uuid4()
    await publish_event(settings, PATHWAY_CLOSED, closed(person, pathway), subject=str(pathway))
    await publish_event(settings, PATHWAY_OPENED, opened(person, pathway), subject=str(pathway))
    await handled(client, 2)
    assert await reference(client, person) is None


async def test_an_order_names_the_pathway_open_when_it_is_issued(client, settings, issuer):
    person, pathway = uuid.uuid4(), uuid.uuid4()
    await publish_event(settings, PATHWAY_OPENED, opened(person, pathway, kind=2), subject=str(pathway))
    await handled(client, 1)
    decision_id = uuid.uuid4()
    order = OrderIssued(
        decision_id=decision_id,
        decision_version=1,
        person_id=person,
        district="frogner",
        provider_org=ORG,
        recipient=OrderRecipient(identity_number=NUMBER, name="Kari Nordmann", address="Gata 1"),
        services=[DecidedService(service_code="15", service_name="Hjemmesykepleie", hours_per_month="10")],
        start_date=TODAY,
        issued_at=suite_now(),
    )
    await publish_event(settings, ORDER_ISSUED, order, subject=f"{decision_id}/{ORG}")

    async def sent():
        r = await client.get("/v1/inbox", headers=auth(issuer, Role.provider, provider_org=ORG))
        items = r.json()["items"]
        assert len(items) == 1, items
        return items[0]

    message = await eventually(sent)
    assert message["data"]["pathway"]["pathway_id"] == str(pathway)
    assert message["data"]["pathway"]["kind"] == 2
