"""Who sees a report: the provider that made it (or is its addressee), and the case office
of its district. Every repository of the reports modules filters through `visible`; every
read is logged through `reading`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Select

from hjemflyt.shared.platform.audit import LoggedRead
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.errors import Forbidden
from hjemflyt.shared.platform.pagination import encode_position
from hjemflyt.shared.platform.repository import scoped

S = TypeVar("S", bound=Select[Any])


def visible(stmt: S, model: Any, principal: Principal) -> S:
    """`model` has `provider_org` and `district` columns."""
    return scoped(stmt, principal, district=model.district, provider=model.provider_org)


def purpose(principal: Principal) -> str:
    """Why this principal reads a person's data (for the access log)."""
    return "service delivery" if principal.role == Role.provider else "case handling"


def provider_only(principal: Principal) -> str:
    """The provider's organisation; 403 for anyone else (reports are the provider's to make)."""
    if principal.role != Role.provider or not principal.provider_org:
        raise Forbidden("Only a provider reports this; use a provider token.")
    return principal.provider_org


def reading(log_read: LoggedRead) -> LoggedRead:
    """The request's logged read with this reader's default purpose (a `Hjemflyt-Purpose`
    header still wins): every read of the provider messaging modules goes through it."""
    return replace(log_read, purpose=purpose(log_read.principal))


async def logged_read(log_read: LoggedRead, resource: str, row: Any) -> None:
    """The access-log row for reading one report (`row` has `id` and `person_id`)."""
    await reading(log_read)(resource, [row.person_id], resource_id=str(row.id))


async def logged_page(
    log_read: LoggedRead, resource: str, rows: Sequence[Any], *, limit: int, at: str
) -> str | None:
    """Log the read of a page of reports (one row per person in it) and return the cursor
    of the next page: the (`at` timestamp, id) of the last row when the page is full."""
    await reading(log_read)(resource, sorted({r.person_id for r in rows}))
    if len(rows) < limit or not rows:
        return None
    return encode_position(getattr(rows[-1], at), rows[-1].id)
