"""Tables every service schema carries: outbox, inbox, dead letters, access log and
idempotency keys. Defined once here and attached to each service's MetaData, so the
mechanisms are identical in all four services.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    inbox: Table
    dead_letter: Table
    access_log: Table
    idempotency: Table


def define_platform_tables(metadata: MetaData) -> PlatformTables:
    outbox = Table(
        "outbox",
        metadata,
        # seq gives the publish order; the relay publishes strictly in seq order.
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("subject", Text, nullable=False),
        Column("type", Text, nullable=False),
        Column("envelope", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
    )
    Index(
        "ix_outbox_pending",
        outbox.c.seq,
        postgresql_where=outbox.c.published_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid, primary_key=True),
        Column("type", Text, nullable=False),
        Column("consumer", Text, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", Uuid),
        Column("type", Text),
        Column("subject", Text, nullable=False),
        Column("consumer", Text, nullable=False),
        Column("deliveries", Integer, nullable=False),
        Column("error", Text, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("stream_seq", BigInteger),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("resolved_at", DateTime(timezone=True)),
    )
    access_log = Table(
        "access_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("actor", Text, nullable=False),
        Column("role", Text, nullable=False),
        Column("organisation", Text),
        Column("action", String(16), nullable=False),
        Column("resource", Text, nullable=False),
        Column("resource_id", Text),
        Column("person_id", Uuid),
        Column("purpose", Text, nullable=False),
        Column("trace_id", Text),
        # The reader's districts at the time of the read (`*`: all): what a snooping review
        # compares with the person's districts (null on rows written before it was kept).
        Column("reader_districts", ARRAY(Text)),
    )
    Index("ix_access_log_person", access_log.c.person_id, access_log.c.at)
    Index("ix_access_log_at", access_log.c.at)
    idempotency = Table(
        "idempotency_key",
        metadata,
        Column("actor", Text, primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("method", String(8), nullable=False),
        Column("path", Text, nullable=False),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        # Encrypted: a stored response may hold personal data (a registered person).
        Column("response", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )
    return PlatformTables(outbox, inbox, dead_letter, access_log, idempotency)
