"""Snooping flags (pure rules): who may read a person without the read being up for review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hjemflyt.assessment.access.rules import GRACE_AFTER, GRACE_BEFORE, CasePeriod, Flag, Read, Remit, flags

OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)
CLOSED = datetime(2026, 5, 4, 12, tzinfo=UTC)
REMIT = Remit(
    districts=frozenset({"frogner"}),
    handlers=frozenset({"kari"}),
    providers=frozenset({"999999999"}),
    periods=(CasePeriod(OPENED, CLOSED),),
)


def read(role: str = "case_officer", at: datetime = OPENED, **kw: object) -> Read:
    base: dict[str, object] = {"actor": "ola", "action": "read", "reader_districts": ["frogner"]}
    return Read(at=at, role=role, **(base | kw))  # type: ignore[arg-type]


def test_a_read_inside_district_and_open_case_is_not_flagged() -> None:
    assert flags(read(), REMIT) == []
    assert flags(read(role="service_lead", reader_districts=["*"]), REMIT) == []


def test_outside_the_readers_districts_unless_in_their_caseload() -> None:
    assert flags(read(reader_districts=["sagene"]), REMIT) == [Flag.outside_districts]
    assert flags(read(reader_districts=[]), REMIT) == [Flag.outside_districts]
    assert flags(read(actor="kari", reader_districts=["sagene"]), REMIT) == []
    # Rows written before the reader's districts were kept cannot be judged on districts.
    assert flags(read(reader_districts=None), REMIT) == []
    # A manager or a provider has no districts to be outside of.
    assert flags(read(role="manager", reader_districts=["*"]), REMIT) == []


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (OPENED - GRACE_BEFORE, True),
        (OPENED - GRACE_BEFORE - timedelta(seconds=1), False),
        (CLOSED + GRACE_AFTER, True),
        (CLOSED + GRACE_AFTER + timedelta(seconds=1), False),
    ],
)
def test_no_open_case_with_a_week_before_and_a_month_after(at: datetime, open_: bool) -> None:
    assert flags(read(at=at), REMIT) == ([] if open_ else [Flag.no_open_case])
    assert flags(read(role="manager", at=at), REMIT) == ([] if open_ else [Flag.no_open_case])


def test_a_case_still_open_covers_every_later_read() -> None:
    remit = Remit(districts=frozenset({"frogner"}), periods=(CasePeriod(OPENED, None),))
    assert flags(read(at=OPENED + timedelta(days=3650)), remit) == []
    assert flags(read(at=OPENED), Remit(districts=frozenset({"frogner"}))) == [Flag.no_open_case]


def test_a_provider_that_does_not_serve_the_person() -> None:
    assert flags(read(role="provider", organisation="999999999", reader_districts=[]), REMIT) == []
    assert flags(read(role="provider", organisation="888888888", reader_districts=[]), REMIT) == [
        Flag.not_their_recipient
    ]
    late = CLOSED + GRACE_AFTER + timedelta(days=1)
    assert flags(read(role="provider", organisation="888888888", at=late), REMIT) == [
        Flag.not_their_recipient,
        Flag.no_open_case,
    ]


@pytest.mark.parametrize("role", ["auditor", "citizen", "integration"])
def test_the_person_the_auditor_and_the_case_system_are_not_reviewed(role: str) -> None:
    assert flags(read(role=role, reader_districts=["sagene"], at=CLOSED + timedelta(days=400)), REMIT) == []


@pytest.mark.parametrize("action", ["create", "update", "delete"])
def test_only_reads_and_lookups_are_reviewed(action: str) -> None:
    assert flags(read(action=action, reader_districts=["sagene"]), REMIT) == []
    assert flags(read(action="lookup", reader_districts=["sagene"]), REMIT) == [Flag.outside_districts]
