from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel, Field

from hjemflyt.budget.delivered.rules import PersonMonth


class MeasureOut(BaseModel):
    code: str | None = Field(description="The catalogue code; null for a measure decided in free text only")
    description: str
    ordered_times: Decimal = Field(description="Expected times in the month from the decided frequency")
    done_times: int | None = Field(description="Visits naming the code; null for an uncoded measure")


class DecidedVsDelivered(BaseModel):
    person_id: uuid.UUID = Field(description="Pseudonymous person id")
    provider_org: str
    district: str | None
    month: str
    scope_kinds: list[str] = Field(description="hours_per_month | frame | minutes_per_measure, as decided")
    decided_hours: Decimal | None = Field(
        description="Decided hours in the month (a frame at its maximum), by the days the decisions cover; "
        "null: no decision known for the person at the provider (e.g. an assignment before a decision)"
    )
    frame_min_hours: Decimal | None
    frame_max_hours: Decimal | None
    limit_hours: Decimal | None = Field(
        description="Above this the delivery is beyond the decision (the ceiling plus a month's "
        "weekday swing)"
    )
    delivered_hours: Decimal = Field(
        description="Actual hours of the visits not cancelled, planned in the month"
    )
    difference_hours: Decimal | None = Field(description="Delivered minus decided (negative: less delivered)")
    measures: list[MeasureOut]
    flags: list[str] = Field(
        description="above_hours | above_frame_max (any time) | below_half_hours | below_frame_min (a month "
        "that is over)"
    )

    @classmethod
    def of(cls, pm: PersonMonth) -> DecidedVsDelivered:
        d = pm.decided
        return cls(
            person_id=pm.person_id,
            provider_org=pm.provider_org,
            district=pm.district,
            month=pm.month,
            scope_kinds=pm.scope_kinds,
            decided_hours=None if d is None else d.hours,
            frame_min_hours=None if d is None else d.frame_min_hours,
            frame_max_hours=None if d is None else d.frame_max_hours,
            limit_hours=None if d is None else d.limit.quantize(Decimal("0.01")),
            delivered_hours=pm.delivered_hours,
            difference_hours=pm.difference_hours,
            measures=[
                MeasureOut(
                    code=m.code,
                    description=m.description,
                    ordered_times=m.ordered_times,
                    done_times=m.done_times,
                )
                for m in pm.measures
            ],
            flags=[f.value for f in pm.flags],
        )
