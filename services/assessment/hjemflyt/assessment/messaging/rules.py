"""The states of national messages and the tasks they raise (no IO)."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    out = "out"
    inbound = "in"


class State(StrEnum):
    pending = "pending"  # stored, not yet handed to the transport
    sent = "sent"  # handed over, waiting for its AppRec
    ok = "ok"  # positive AppRec
    rejected = "rejected"  # negative AppRec (reason kept)
    invalid = "invalid"  # failed the schema: never sent
    received = "received"  # an incoming message (answered by an outgoing AppRec)
    changed = "changed"  # an incoming message a later Endring changed
    cancelled = "cancelled"  # an incoming message a later Kansellering cancelled


class TaskKind(StrEnum):
    message_invalid = "message-invalid"
    receipt_missing = "receipt-missing"
    receipt_rejected = "receipt-rejected"
    gp_missing = "gp-missing"
    message_unanswerable = "message-unanswerable"
    message_refers_to_unknown = "message-refers-to-unknown"
    person_unknown = "person-unknown"
    # The hospital's logistics messages (messaging/logistics.py): where a person must look.
    discharged_without_admission = "discharged-without-admission"
    ready_without_admission = "ready-without-admission"
    discharge_cancelled = "discharge-cancelled"
    person_died = "person-died"
    death_cancelled = "death-cancelled"
