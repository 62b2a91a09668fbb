"""What follows an acknowledgement is installed in main.py, by message kind prefix."""

from __future__ import annotations

import pytest

import hjemflyt.notifications.main  # noqa: F401  (the composition root installs the handlers)
from hjemflyt.notifications.messages import acks
from hjemflyt.notifications.orders import service as orders
from hjemflyt.notifications.routines import service as routines
from hjemflyt.notifications.urgent import service as urgent


def test_each_kind_goes_to_its_module() -> None:
    assert acks.handlers_for("order.new") is orders.ACK_HANDLERS
    assert acks.handlers_for("routine.published") is routines.ACK_HANDLERS
    assert acks.handlers_for("urgent_request.sent") is urgent.ACK_HANDLERS
    assert acks.handlers_for("adjustment.overruled") == acks.AckHandlers()


def test_overlapping_prefixes_are_refused() -> None:
    before = dict(acks.HANDLERS)
    with pytest.raises(ValueError, match="overlap"):
        acks.install({"order.": orders.ACK_HANDLERS, "order.new": routines.ACK_HANDLERS})
    assert before == acks.HANDLERS
