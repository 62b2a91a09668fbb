"""pytest fixtures for service tests on a real PostgreSQL and a real NATS.

- `infra` (session): the embedded servers in `.hjemflyt/test`, and a template database
  migrated to head for all four services.
- `settings` (per test): a fresh database cloned from the template and a bus namespace of
  its own, so each test has its own tables, streams and durable consumers: no test sees
  another's rows or events, and nothing is mocked.
- `running_service(create_app, settings)`: the app in-process with its lifespan (relay and
  consumers running) behind an httpx client.
- `issuer` / `auth(...)`: development tokens.
- The suite's pinned clock: `suite_now()`, `suite_today()`, `fixed_clock()`,
  `move_clock_to()`. Every test takes "now" and "today" from it, and every service the tests
  start (in-process or as a process) runs on the same shifted clock, so the whole suite
  lives on one day. That day is today at
  noon in Oslo, or the one `HJEMFLYT_TEST_TODAY` names (`2027-01-01`, or `2027-01-01T00:20`
  for an hour too; Oslo time), so a failure on a given day is reproduced on any other.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.events import PROVIDER_REGISTERED, ProviderKind, ProviderRegistered
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform import embedded
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import OSLO, Clock, FixedClock
from hjemflyt.shared.platform.devissuer import DevIssuer
from hjemflyt.shared.platform.migrations import upgrade
from hjemflyt.shared.platform.settings import SERVICES, Environment, Settings

T = TypeVar("T")

# Overridable so that two test runs on one machine (or a run beside a benchmark) do not collide.
TEST_DIR = Path(os.environ.get("HJEMFLYT_TEST_DATA_DIR", ".hjemflyt/test"))
TEMPLATE_DB = "hjemflyt_template"
ISSUER = "https://dev-issuer.hjemflyt.local"


def _pinned_start(setting: str | None, wall: datetime) -> datetime:
    """The instant the suite starts at: `HJEMFLYT_TEST_TODAY` (a date, or a date and an
    hour, in Oslo), else the wall clock's date in Oslo at noon, far from midnight so that no
    run crosses into the next day."""
    if not setting:
        return datetime.combine(wall.astimezone(OSLO).date(), time(12), OSLO)
    try:
        if "T" in setting or " " in setting:
            local = datetime.fromisoformat(setting)
            if local.tzinfo is None:
                local = local.replace(tzinfo=OSLO)
            return local
        return datetime.combine(date.fromisoformat(setting), time(12), OSLO)
    except ValueError as exc:
        raise pytest.UsageError(
            f"HJEMFLYT_TEST_TODAY={setting!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM (Oslo time)"
        ) from exc


# Read once, when the suite starts: the one place the tests look at the system clock.
_WALL_AT_START = datetime.now(UTC)  # noqa: TID251 - read once, to pin
SUITE_START = _pinned_start(os.environ.get("HJEMFLYT_TEST_TODAY"), _WALL_AT_START).astimezone(UTC)
# How far every clock of the suite is moved from the system clock.
SUITE_SHIFT = SUITE_START - _WALL_AT_START


def suite_now() -> datetime:
    """Now, on the suite's pinned clock (UTC). Use this, never `datetime.now()`."""
    return datetime.now(UTC) + SUITE_SHIFT  # noqa: TID251 - the pinned clock


def suite_today() -> date:
    """Today's legal date (Oslo) on the suite's pinned clock. Use this, never `date.today()`."""
    return suite_now().astimezone(OSLO).date()


def fixed_clock(days: int = 0, *, at: time | None = None) -> FixedClock:
    """A clock standing still `days` after the suite's today, at `at` Oslo time (default: the
    suite's own hour): for tests that step time by hand."""
    moment = SUITE_START.astimezone(OSLO)
    day = moment.date() + timedelta(days=days)
    return FixedClock(datetime.combine(day, at or moment.timetz().replace(tzinfo=None), OSLO))


def move_clock_to(clock: Clock, day: date, at: time | None = None) -> None:
    """Move `clock` forward to `day` in Oslo, at `at` (default: the clock's own time of day).
    Not days x 24 hours: across a daylight-saving switch that lands an hour off, and from
    00:20 on the last Sunday of October on the same date."""
    now = clock.now()
    target = datetime.combine(day, at or now.astimezone(OSLO).time(), OSLO)
    clock.advance(target - now)


def pytest_report_header(config: pytest.Config) -> str:
    start = SUITE_START.astimezone(OSLO)
    return (
        f"hjemflyt test clock: {start:%Y-%m-%d %H:%M} Europe/Oslo ({start:%A}); "
        f"run as another day with HJEMFLYT_TEST_TODAY=YYYY-MM-DD[THH:MM]"
    )


@dataclass
class Infra:
    postgres: embedded.EmbeddedPostgres
    nats: embedded.EmbeddedNats
    issuer: DevIssuer


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    root = TEST_DIR.resolve()
    # JetStream state of earlier runs is worthless to a new run; the PGDATA is kept (initdb is slow).
    shutil.rmtree(root / "nats", ignore_errors=True)
    postgres = embedded.EmbeddedPostgres(root / "postgres")
    nats = embedded.EmbeddedNats(root / "nats")
    postgres.start()
    try:
        nats.start()
        postgres.drop_database(TEMPLATE_DB)
        url = postgres.create_database(TEMPLATE_DB)
        for service in SERVICES:
            upgrade(service, url)
        issuer = DevIssuer(root / "dev-issuer", issuer=ISSUER)
        issuer.ensure_keys()
        yield Infra(postgres, nats, issuer)
    finally:
        nats.stop()
        postgres.stop()


@pytest.fixture
def issuer(infra: Infra) -> DevIssuer:
    return infra.issuer


def make_settings(infra: Infra, database_url: str, namespace: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": Environment.test,
        "database_url": database_url,
        "nats_url": infra.nats.url,
        "bus_namespace": namespace,
        "jwt_issuer": ISSUER,
        "jwt_jwks_file": infra.issuer.jwks_file,
        "dev_clock_control": True,
        "clock_shift_seconds": SUITE_SHIFT.total_seconds(),
        "outbox_poll_seconds": 0.2,
        # No other service runs beside an in-process one: nothing answers here (port 9,
        # discard), so a test never reaches another stack on this machine.
        "pathway_url": "http://127.0.0.1:9",
        "budget_url": "http://127.0.0.1:9",
        "notifications_url": "http://127.0.0.1:9",
        "consumer_backoff_seconds": [0.2, 0.5, 1.0],
        "consumer_max_deliver": 4,
        "consumer_ack_wait_seconds": 5.0,
        "database_pool_size": 5,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(infra: Infra) -> Iterator[Settings]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = infra.postgres.create_database(name, template=TEMPLATE_DB)
    yield make_settings(infra, url, name)
    infra.postgres.drop_database(name)


@asynccontextmanager
async def running_service(
    create_app: Callable[..., FastAPI], settings: Settings, **kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


def auth(issuer: DevIssuer, role: Role, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token(role=role, **claims)}"}


async def eventually(check: Callable[[], Awaitable[T]], *, seconds: float = 15.0, every: float = 0.1) -> T:
    """Await `check` until it returns without AssertionError (events arrive asynchronously)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        try:
            return await check()
        except AssertionError:
            if loop.time() > deadline:
                raise
        await asyncio.sleep(every)


async def publish_event(
    settings: Settings,
    event_type: EventType[Any],
    data: BaseModel,
    *,
    subject: str,
    event_id: uuid.UUID | None = None,
    msg_id: str | None = None,
) -> CloudEvent:
    """Publish an event on the bus as its producing service would (tests of consumers).
    A different `msg_id` for the same `event_id` gets past JetStream's dedupe: a redelivery."""
    event = CloudEvent(
        id=event_id or uuid.uuid4(),
        source=f"/hjemflyt/{event_type.service}",
        type=event_type.name,
        subject=subject,
        time=suite_now(),
        dataschema=event_type.dataschema,
        tenant=settings.tenant,
        data=data.model_dump(mode="json"),
    )
    bus = Bus(settings, name=f"test-{event_type.service}")
    await bus.connect()
    try:
        await bus.ensure_stream(event_type.service)
        await bus.js.publish(
            event_type.subject(settings.bus_namespace, settings.tenant),
            event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": msg_id or str(event.id)},
        )
    finally:
        await bus.close()
    return event


async def publish_provider(
    settings: Settings, org: str, service_codes: list[str], districts: list[str]
) -> None:
    """Register a provider the way the notifications service announces it."""
    await publish_event(
        settings,
        PROVIDER_REGISTERED,
        ProviderRegistered(
            provider_org=org,
            name="Omsorgspartner Demo AS",
            kind=ProviderKind.private,
            service_codes=service_codes,
            districts=districts,
            version=1,
        ),
        subject=org,
    )
