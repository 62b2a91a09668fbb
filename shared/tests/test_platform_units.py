"""Unit tests of the platform: no database, no bus, no network."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.exceptions import InvalidTag
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from hjemflyt.shared.contracts.asyncapi import asyncapi_document
from hjemflyt.shared.contracts.events import (
    DECISION_AMENDED,
    DECISION_MADE,
    ORDER_CREATED,
    ORDER_ISSUED,
    PROVIDER_REGISTERED,
)
from hjemflyt.shared.contracts.registry import REGISTRY, register, stream_name, stream_subjects
from hjemflyt.shared.platform.auth import ROLE_SCOPES, Role, Scope, principal_from_claims
from hjemflyt.shared.platform.clock import OSLO, Clock, FixedClock
from hjemflyt.shared.platform.consumer import Consumer, Subscription
from hjemflyt.shared.platform.crypto import FieldCipher
from hjemflyt.shared.platform.db import create_engine
from hjemflyt.shared.platform.embedded import free_port
from hjemflyt.shared.platform.errors import (
    DatabaseUnavailable,
    Forbidden,
    Problem,
    Unauthorized,
    database_unavailable,
    install_problem_handlers,
    problem_response,
)
from hjemflyt.shared.platform.logs import RedactIdentityNumbers
from hjemflyt.shared.platform.pagination import decode_cursor, encode_cursor
from hjemflyt.shared.platform.settings import Environment, Settings

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
INDEX_KEY = base64.urlsafe_b64encode(b"i" * 32).decode()
OTHER_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()


def claims(role: str, scopes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    granted = scopes if scopes is not None else [s.value for s in Scope]
    return {"sub": "someone", "role": role, "scope": " ".join(granted), **extra}


# --- principals ------------------------------------------------------------------------


def test_scopes_outside_the_role_are_dropped():
    # Every scope there is, claimed by each role: each gets exactly its role's scopes.
    for role in Role:
        extra: dict[str, str] = {"provider_org": "812345672"} if role == Role.provider else {}
        if role == Role.citizen:
            extra = {"person_id": "5b0a3f4e-8d1c-4a55-9e0f-2f7c3b1a9d11"}
        principal = principal_from_claims(claims(role.value, **extra), "0301")
        assert principal.scopes == ROLE_SCOPES[role], role
    provider = principal_from_claims(
        claims(
            "provider",
            ["orders:read", "persons:read", "persons:write", "config:write"],
            provider_org="812345672",
        ),
        "0301",
    )
    assert provider.scopes == {Scope.orders_read}
    with pytest.raises(Forbidden) as refused:
        provider.require(Scope.orders_read, Scope.persons_read)
    assert refused.value.status == 403
    assert refused.value.extensions["missing_scopes"] == ["persons:read"]


def test_scopes_are_the_intersection_not_the_role_default():
    officer = principal_from_claims(claims("case_officer", ["persons:read"], districts=["frogner"]), "0301")
    assert officer.scopes == {Scope.persons_read}
    assert not officer.has(Scope.persons_write)
    assert principal_from_claims(claims("integration", []), "0301").scopes == frozenset()
    assert principal_from_claims({"sub": "x", "role": "auditor"}, "0301").scopes == frozenset()


def test_provider_tokens_must_name_their_organisation():
    for bad in ({}, {"provider_org": "81234567"}, {"provider_org": 812345672}, {"provider_org": None}):
        with pytest.raises(Unauthorized) as refused:
            principal_from_claims(claims("provider", **bad), "0301")
        assert refused.value.status == 401
    provider = principal_from_claims(claims("provider", provider_org="812345672"), "0301")
    assert provider.provider_org == "812345672"
    # Only providers carry an organisation.
    officer = principal_from_claims(claims("case_officer", provider_org="812345672"), "0301")
    assert officer.provider_org is None


def test_roles_districts_and_tenant():
    for bad in ({"role": "root"}, {"role": ""}, {"districts": "frogner"}, {"districts": [1, 2]}):
        with pytest.raises(Unauthorized):
            principal_from_claims({**claims("case_officer"), **bad}, "0301")
    officer = principal_from_claims(claims("case_officer", districts=["frogner"]), "0301")
    assert officer.tenant == "0301"
    assert not officer.all_districts
    assert officer.may_see_district("frogner")
    assert not officer.may_see_district("gamle-oslo")
    assert principal_from_claims(claims("case_officer", districts=["*"]), "0301").all_districts
    assert principal_from_claims(claims("case_officer"), "0301").districts == frozenset()
    for role in ("integration", "manager", "auditor"):
        assert principal_from_claims(claims(role), "0301").all_districts, role
    assert principal_from_claims(claims("integration", tenant="1103"), "0301").tenant == "1103"


# --- clock -----------------------------------------------------------------------------


def test_clock_only_moves_forward():
    clock = Clock()
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.offset == timedelta(0)
    clock.advance(timedelta(days=2))
    assert clock.offset == timedelta(days=2)
    # The one test that reads the system clock: Clock's contract is "system clock, moved".
    assert clock.now() - datetime.now(UTC) > timedelta(days=1, hours=23)  # noqa: TID251 - Clock is the system clock, moved
    assert clock.now().tzinfo is not None


def test_a_shifted_clock_lives_on_another_day_and_still_moves_forward():
    shift = timedelta(days=-400, hours=3)
    clock = Clock(shift=shift)
    assert clock.shift == shift
    assert clock.offset == timedelta(0)
    assert abs(clock.now() - (datetime.now(UTC) + shift)) < timedelta(seconds=5)  # noqa: TID251 - as above
    clock.advance(timedelta(days=1))
    # The offset the clock control reports is what tests moved, not the shift it started with.
    assert clock.offset == timedelta(days=1)
    assert abs(clock.now() - (datetime.now(UTC) + shift + timedelta(days=1))) < timedelta(seconds=5)  # noqa: TID251 - as above


def test_the_suite_clock_is_pinned_by_hjemflyt_test_today():
    from hjemflyt.shared.testing import _pinned_start

    wall = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # already 7 December in Oslo
    assert _pinned_start(None, wall) == datetime(2026, 12, 7, 12, 0, tzinfo=OSLO)
    assert _pinned_start("2028-02-29", wall) == datetime(2028, 2, 29, 12, 0, tzinfo=OSLO)
    assert _pinned_start("2027-01-01T00:20", wall) == datetime(2026, 12, 31, 23, 20, tzinfo=UTC)
    # Summer time: 00:20 in Oslo is 22:20 UTC the day before.
    assert _pinned_start("2027-10-31T00:20", wall) == datetime(2027, 10, 30, 22, 20, tzinfo=UTC)
    assert _pinned_start("2027-03-28T00:20+00:00", wall) == datetime(2027, 3, 28, 0, 20, tzinfo=UTC)
    for bad in ("tomorrow", "2027-13-01", "2027-02-29"):
        with pytest.raises(pytest.UsageError, match="HJEMFLYT_TEST_TODAY"):
            _pinned_start(bad, wall)


def test_fixed_clock_and_the_legal_date_in_oslo():
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2026, 1, 1))
    clock = FixedClock(datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert clock.today() == date(2027, 1, 1)  # already new year in Oslo (UTC+1)
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2027, 1, 1, 0, 30, tzinfo=UTC)
    summer = FixedClock(datetime(2026, 6, 30, 22, 30, tzinfo=UTC))
    assert summer.today() == date(2026, 7, 1)  # UTC+2 in summer


# --- field encryption ------------------------------------------------------------------


def test_field_cipher_round_trip_with_random_nonces_and_a_stable_index():
    cipher = FieldCipher(KEY, INDEX_KEY)
    value = "14833849973"
    a, b = cipher.encrypt(value), cipher.encrypt(value)
    assert a != b
    assert value.encode() not in a
    assert cipher.decrypt(a) == cipher.decrypt(b) == value
    assert cipher.index(value) == cipher.index(value) == FieldCipher(KEY, INDEX_KEY).index(value)
    assert cipher.index(value) != cipher.index("14833849974")
    assert value not in cipher.index(value)
    # The index depends on its own key, not the encryption key.
    assert FieldCipher(OTHER_KEY, INDEX_KEY).index(value) == cipher.index(value)
    assert FieldCipher(KEY, OTHER_KEY).index(value) != cipher.index(value)


def test_field_cipher_refuses_other_keys_tampering_and_bad_keys():
    blob = FieldCipher(KEY, INDEX_KEY).encrypt("14833849973")
    with pytest.raises(InvalidTag):
        FieldCipher(OTHER_KEY, INDEX_KEY).decrypt(blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(InvalidTag):
        FieldCipher(KEY, INDEX_KEY).decrypt(tampered)
    with pytest.raises(InvalidTag):
        FieldCipher(KEY, INDEX_KEY, associated=b"another-field").decrypt(blob)
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(base64.urlsafe_b64encode(b"short").decode(), INDEX_KEY)


# --- cursors ---------------------------------------------------------------------------


def test_cursor_round_trip_and_garbage():
    position = {"created_at": "2026-11-22T10:00:00+00:00", "id": "0b5e…"}
    assert decode_cursor(encode_cursor(position)) == position
    assert decode_cursor(None) is None
    assert decode_cursor("") is None
    for garbage in ("garbage!", "abc", base64.urlsafe_b64encode(b"[1, 2]").decode(), "bnVsbA=="):
        with pytest.raises(Problem) as refused:
            decode_cursor(garbage)
        assert refused.value.status == 400
        assert refused.value.slug == "invalid-cursor"
        assert refused.value.type.endswith("/invalid-cursor")


# --- problems --------------------------------------------------------------------------


def test_problem_bodies_and_the_401_challenge():
    problem = Problem("Nope.", status=422, slug="rule-x", title="Rule X", violations=[{"rule": "x"}])
    assert problem.body("/v1/x") == {
        "type": "https://hjemflyt.no/problems/rule-x",
        "title": "Rule X",
        "status": 422,
        "detail": "Nope.",
        "instance": "/v1/x",
        "violations": [{"rule": "x"}],
    }
    response = problem_response(problem)
    assert response.status_code == 422
    assert response.media_type == "application/problem+json"
    assert "www-authenticate" not in response.headers
    challenge = problem_response(Unauthorized("Send a token."))
    assert challenge.status_code == 401
    assert challenge.headers["www-authenticate"].startswith("Bearer")
    assert json.loads(challenge.body)["type"].endswith("/unauthorized")


async def test_a_database_out_of_reach_is_a_503_with_retry_after_not_a_500():
    """Refused, restarting or shutting down, or a pooled connection that died with it: the
    system's passing fault, which a retry (same Idempotency-Key) gets past. What the
    database refuses stays the caller's problem, anything else a 500."""
    assert database_unavailable(DatabaseUnavailable("refused"))
    assert database_unavailable(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert database_unavailable(asyncpg.AdminShutdownError("terminating connection"))
    assert database_unavailable(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    dead = DBAPIError("SELECT 1", None, Exception("connection is closed"), connection_invalidated=True)
    assert database_unavailable(dead)
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = DatabaseUnavailable("refused")
    assert database_unavailable(wrapped)
    assert not database_unavailable(asyncpg.UniqueViolationError("duplicate key"))
    assert not database_unavailable(DBAPIError("SELECT 1", None, Exception("boom")))
    assert not database_unavailable(OSError("disk full"))

    app = FastAPI()
    install_problem_handlers(app)
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing_listens")

    @app.get("/x")
    async def x() -> None:
        async with engine.connect() as conn:
            await conn.execute(sql("SELECT 1"))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        response = await client.get("/x")
    await engine.dispose()
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("/database-unavailable")


# --- logging ---------------------------------------------------------------------------


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("hjemflyt.test", logging.INFO, __file__, 1, msg, args, None)


def test_log_filter_masks_eleven_digit_runs():
    redact = RedactIdentityNumbers()
    r = record("registered %s in %s", "14833849973", "frogner")
    assert redact.filter(r) is True  # masks, never drops
    assert r.getMessage() == "registered *********** in frogner"
    assert "14833849973" not in r.getMessage()
    r = record("numbers 14833849973,01010112345 and id=x14833849973y")
    redact.filter(r)
    assert r.getMessage() == "numbers ***********,*********** and id=x***********y"
    # Not 11 digits: left alone (organisation numbers, 12-digit sequence numbers, timestamps).
    for text in ("org 812345672", "seq 123456789012", "at 2026-11-22 10:00:00", "1483384997"):
        r = record("%s", text)
        redact.filter(r)
        assert r.getMessage() == text


def test_log_filter_masks_what_a_handler_writes(tmp_path):
    path = tmp_path / "log.txt"
    handler = logging.FileHandler(path)
    handler.addFilter(RedactIdentityNumbers())
    log = logging.getLogger("hjemflyt.test.redact")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.warning("lookup of %s failed", "14833849973")
    finally:
        log.removeHandler(handler)
        handler.close()
    assert path.read_text().strip() == "lookup of *********** failed"


# --- the event registry ----------------------------------------------------------------


def test_registry_names_subjects_and_streams():
    assert DECISION_MADE.name == "no.hjemflyt.assessment.decision.made.v1"
    assert (
        DECISION_MADE.dataschema
        == "https://hjemflyt.no/schemas/events/no.hjemflyt.assessment.decision.made.v1.json"
    )
    assert DECISION_MADE.subject("hjemflyt", "0301") == "hjemflyt.assessment.0301.decision.made.v1"
    assert DECISION_MADE.filter_subject("t_abc") == "t_abc.assessment.*.decision.made.v1"
    assert PROVIDER_REGISTERED.subject("ns", "1103") == "ns.notifications.1103.provider.registered.v1"
    assert stream_name("hjemflyt", "assessment") == "HJEMFLYT_ASSESSMENT"
    assert stream_name("dev.ns-1", "notifications") == "DEV_NS_1_NOTIFICATIONS"
    assert stream_subjects("hjemflyt", "budget") == ["hjemflyt.budget.>"]
    # Every subject a type is published on is matched by its filter and lies in its producer's stream.
    for event_type in REGISTRY.values():
        subject = event_type.subject("ns", "0301").split(".")
        pattern = event_type.filter_subject("ns").split(".")
        assert len(subject) == len(pattern)
        assert all(p in ("*", s) for s, p in zip(subject, pattern, strict=True))
        assert subject[:2] == stream_subjects("ns", event_type.service)[0].split(".")[:2]
    assert {
        ORDER_ISSUED.name,
        ORDER_CREATED.name,
        DECISION_MADE.name,
        PROVIDER_REGISTERED.name,
    } <= REGISTRY.keys()
    assert [t.name for t in REGISTRY.values() if t.personal_data] == [ORDER_ISSUED.name]


def test_an_event_type_is_registered_once():
    before = dict(REGISTRY)
    with pytest.raises(ValueError, match="twice"):
        register(DECISION_MADE)
    assert before == REGISTRY


# --- consumers -------------------------------------------------------------------------


async def _noop(session: Any, event: Any, data: Any) -> None:
    return None


def consumer(name: str, producer: str, *types: Any, settings: Settings | None = None) -> Consumer:
    return Consumer(
        consumer=name,
        producer=producer,
        subscriptions=[Subscription(t, _noop) for t in types],
        sessionmaker=None,  # type: ignore[arg-type]
        tables=None,  # type: ignore[arg-type]
        bus=None,  # type: ignore[arg-type]
        settings=settings or Settings(),
        clock=Clock(),
    )


def test_only_notifications_may_consume_personal_data():
    for name in ("pathway", "budget", "assessment"):
        with pytest.raises(ValueError, match="personal data"):
            consumer(name, "assessment", DECISION_MADE, ORDER_ISSUED)
    assert consumer("notifications", "assessment", ORDER_ISSUED).handlers.keys() == {ORDER_ISSUED.name}
    with pytest.raises(ValueError, match="not produced by"):
        consumer("pathway", "notifications", DECISION_MADE)
    with pytest.raises(ValueError, match="at least one"):
        consumer("pathway", "assessment")


def test_a_second_handler_for_an_event_type_is_an_error_at_start_up():
    with pytest.raises(ValueError, match=f"two handlers for {DECISION_MADE.name}"):
        consumer("pathway", "assessment", DECISION_MADE, DECISION_AMENDED, DECISION_MADE)
    assert consumer("pathway", "assessment", DECISION_MADE, DECISION_AMENDED).handlers.keys() == {
        DECISION_MADE.name,
        DECISION_AMENDED.name,
    }


def test_consumer_configuration_is_explicit():
    settings = Settings(
        bus_namespace="t_ns",
        consumer_max_deliver=5,
        consumer_ack_wait_seconds=7.5,
        consumer_backoff_seconds=[0.1, 2.0, 9.0],
    )
    c = consumer("budget", "notifications", PROVIDER_REGISTERED, settings=settings)
    config = c.config
    assert config.durable_name == "budget"
    assert config.max_deliver == 5
    assert config.ack_wait == 7.5
    assert config.filter_subjects == ["t_ns.notifications.*.provider.registered.v1"]
    assert [c.backoff(n) for n in (1, 2, 3, 4, 50)] == [0.1, 2.0, 9.0, 9.0, 9.0]


# --- settings --------------------------------------------------------------------------


def test_production_refuses_development_secrets():
    with pytest.raises(ValidationError) as refused:
        Settings(env=Environment.production, dev_clock_control=True)
    message = str(refused.value)
    for needle in ("PII_KEY", "PII_INDEX_KEY", "DEV_CLOCK_CONTROL", "DATABASE_URL", "JWKS_URL", "JWT_ISSUER"):
        assert needle in message
    with pytest.raises(ValidationError, match="CLOCK_SHIFT_SECONDS"):
        Settings(env=Environment.production, clock_shift_seconds=-86400)
    ok = Settings(
        env=Environment.production,
        pii_key=KEY,
        pii_index_key=INDEX_KEY,
        database_url="postgresql+asyncpg://u:p@db/hjemflyt",
        nats_url="nats://nats:4222",
        jwt_jwks_url="https://idp.example/jwks",
        jwt_issuer="https://idp.example",
    )
    assert ok.env == Environment.production


# --- the event catalogue ---------------------------------------------------------------


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict)
        assert part in node, f"{ref} does not resolve ({part!r} missing)"
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_asyncapi_lists_every_event_type_and_every_ref_resolves():
    document = json.loads(json.dumps(asyncapi_document("hjemflyt")))  # as published: plain JSON
    assert document["asyncapi"].startswith("3.")
    messages = document["components"]["messages"]
    assert {m["name"] for m in messages.values()} == set(REGISTRY)
    channels = {c["address"] for c in document["channels"].values()}
    assert channels == {t.subject("hjemflyt", "{tenant}") for t in REGISTRY.values()}
    for event_type in REGISTRY.values():
        key = event_type.name.replace(".", "_")
        assert messages[key]["x-personal-data"] is event_type.personal_data
        assert event_type.model.__name__ in document["components"]["schemas"]
        assert document["operations"][f"publish_{key}"]["channel"] == {"$ref": f"#/channels/{key}"}
    found = refs(document)
    assert len(found) > 3 * len(REGISTRY)
    for ref in found:
        resolve(document, ref)
    # Nested models (the decided services) are components too.
    assert {"DecidedService", "CloudEvent"} <= document["components"]["schemas"].keys()
    # The order's recipient travels sealed: a string on the bus, never the personal fields.
    recipient = document["components"]["schemas"]["OrderIssued"]["properties"]["recipient"]
    assert recipient["type"] == "string"
    assert "HJEMFLYT_BUS_PII_KEY" in recipient["description"]
    assert "$defs" not in json.dumps(document)
