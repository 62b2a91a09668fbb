"""The provider order's recipient is sealed on the bus: the outbox's serialization seals it
with the bus key, the consumer's validation opens it; without the key or with another key
nothing is readable; in memory and towards providers it stays the plain model."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from hjemflyt.shared.contracts.events import DecidedService, OrderIssued, OrderRecipient
from hjemflyt.shared.contracts.sealed import context
from hjemflyt.shared.platform.crypto import BusSealer

NUMBER = "29824849968"  # synthetic (Tenor)
KEY = base64.urlsafe_b64encode(b"test-only-bus-key-is-32-bytes!!!").decode()
OTHER = base64.urlsafe_b64encode(b"another-test-bus-key-of-32-bytes").decode()


def order() -> OrderIssued:
    return OrderIssued(
        decision_id=uuid4(),
        decision_version=1,
        person_id=uuid4(),
        district="frogner",
        provider_org="320000009",
        recipient=OrderRecipient(
            identity_number=NUMBER, name="Kari Nordmann", address="Gata 1", phone="99999999"
        ),
        services=[
            DecidedService(service_code="15", service_name="Hjemmesykepleie", hours_per_month=Decimal("10"))
        ],
        start_date=date(2026, 12, 1),
        issued_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
    )


def test_sealed_on_the_wire_and_opened_by_the_key_holder():
    sealer = BusSealer(KEY)
    wire = order().model_dump(mode="json", context=context(sealer))
    assert isinstance(wire["recipient"], str)
    text = json.dumps(wire)
    for personal in (NUMBER, "Kari", "Gata 1", "99999999"):
        assert personal not in text
    opened = OrderIssued.model_validate(wire, context=context(sealer))
    assert opened.recipient == order().recipient


def test_without_the_key_or_with_another_nothing_opens():
    wire = order().model_dump(mode="json", context=context(BusSealer(KEY)))
    with pytest.raises(ValidationError, match="holds no bus key"):
        OrderIssued.model_validate(wire)
    with pytest.raises(ValidationError, match="cannot be opened"):
        OrderIssued.model_validate(wire, context=context(BusSealer(OTHER)))


def test_plain_outside_the_bus_and_plain_events_still_read():
    plain = order().model_dump(mode="json")
    assert plain["recipient"]["identity_number"] == NUMBER  # e.g. an order an older producer wrote
    assert (
        OrderIssued.model_validate(plain, context=context(BusSealer(KEY))).recipient.name == "Kari Nordmann"
    )
