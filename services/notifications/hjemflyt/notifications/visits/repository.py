"""All SQL of visits. A provider reads and writes only its own batches and visits (the
provider's organisation is part of every key)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, Table, Text, any_, bindparam, select
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.notifications.reports.scoping import visible
from hjemflyt.notifications.visits.models import Visit, VisitBatch
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.db import transaction_driver
from hjemflyt.shared.platform.repository import Repository

COPY_COLUMNS = [
    "provider_org",
    "visit_id",
    "batch_id",
    "order_id",
    "person_id",
    "district",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "staff_id",
    "measures_done",
    "cancelled",
    "cancel_cause",
    "reported_at",
]


class VisitRepository(Repository):
    async def batch(self, provider_org: str, batch_id: str) -> VisitBatch | None:
        return await self.session.scalar(
            select(VisitBatch).where(VisitBatch.provider_org == provider_org, VisitBatch.batch_id == batch_id)
        )

    async def add_batch_once(self, values: dict[str, Any]) -> bool:
        """Claim the batch id; False if it exists (a concurrent request waits here for the
        first one's commit, then sees its row)."""
        stmt = insert(VisitBatch).values(**values).on_conflict_do_nothing().returning(VisitBatch.batch_id)
        return (await self.session.scalar(stmt)) is not None

    async def reported_elsewhere(self, provider_org: str, visit_ids: Sequence[str]) -> dict[str, str]:
        """visit id -> batch id, for those of `visit_ids` this provider reported before."""
        # One array parameter, not one parameter per id (a batch has up to 100,000).
        ids = bindparam("visit_ids", list(visit_ids), type_=ARRAY(Text))
        rows = await self.session.execute(
            select(Visit.visit_id, Visit.batch_id).where(
                Visit.provider_org == provider_org, Visit.visit_id == any_(ids)
            )
        )
        return {visit_id: batch_id for visit_id, batch_id in rows}

    async def copy(self, records: Sequence[tuple[Any, ...]]) -> None:
        """COPY the visits on the unit of work's own connection (so in its transaction)."""
        driver = await transaction_driver(self.session, "visits are written")
        table = Visit.__table__
        assert isinstance(table, Table)
        await driver.copy_records_to_table(
            table.name, schema_name=table.schema, columns=COPY_COLUMNS, records=records
        )

    async def for_order(
        self, principal: Principal, order_id: uuid.UUID, *, limit: int, after: tuple[Any, str] | None
    ) -> Sequence[Visit]:
        stmt = visible(select(Visit), Visit, principal).where(Visit.order_id == order_id)
        return await self.keyset_page(stmt, (Visit.planned_start, Visit.visit_id), after=after, limit=limit)
