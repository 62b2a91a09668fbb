"""One base for every repository: the session, who may see which rows, and the shapes every
module's SQL repeats (insert, insert once, keyset pages).

DESIGN.md § 2 puts every SQL statement of a module and its scoping by principal in the
module's repository. Scoping is one function here (`scoped`), so "a provider sees only its
own organisation's rows, a case officer only its districts' rows" is written once, not per
module: a repository names its table's district and provider columns, nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from hjemflyt.shared.platform.auth import Principal, Role

S = TypeVar("S", bound=Select[Any])
Column = ColumnElement[Any] | QueryableAttribute[Any]
M = TypeVar("M")


def scoped(
    stmt: S,
    principal: Principal,
    *,
    district: Column | None,
    provider: Column | None = None,
) -> S:
    """The rows of `stmt` this principal may see.

    - A provider: only rows of its own organisation (`provider`); none where the table has
      no provider column.
    - A role with all districts (integration, manager, auditor, or a `*` districts claim):
      every row.
    - Everyone else (case officer, service lead, citizen): rows of their districts only
      (`district`); none of a district-bound table without districts. `district=None` marks
      a table that is not bound to a district (configuration, the provider register).
    """
    if principal.role == Role.provider:
        if provider is None or not principal.provider_org:
            return stmt.where(false())
        return stmt.where(provider == principal.provider_org)
    if principal.all_districts or district is None:
        return stmt
    return stmt.where(district.in_(sorted(principal.districts)))


class Repository:
    """The session of the unit of work; a module's repository adds its own statements."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, row: M) -> M:
        """Add `row` to the unit of work and flush it (its defaults and keys are then set)."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def insert_once(self, row: M) -> M | None:
        """Insert `row`; None when a unique key says it exists already (a concurrent or
        repeated delivery won). Only this insert is undone, not the unit of work."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError:
            return None
        return row

    async def keyset_page(
        self,
        stmt: Select[M],
        order: Sequence[Column],
        *,
        after: Sequence[Any] | None,
        limit: int,
    ) -> Sequence[M]:
        """One page of `stmt` in `order` (ascending, unique as a whole), strictly after the
        position `after` (the values of `order` of the last row of the previous page)."""
        if after is not None:
            stmt = stmt.where(tuple_(*order) > tuple_(*after))
        return (await self.session.scalars(stmt.order_by(*order).limit(limit))).all()
