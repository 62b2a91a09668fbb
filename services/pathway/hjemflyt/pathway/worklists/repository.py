from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Row,
    Select,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert

from hjemflyt.pathway.decisions.models import PersonDecision
from hjemflyt.pathway.pathways.models import Pathway
from hjemflyt.pathway.responsibility.models import PrimaryContact, Responsibility
from hjemflyt.pathway.worklists.models import (
    AdjustmentLogged,
    CaseTask,
    ChangeOfNeedReport,
    DeliveryFlag,
    ProviderOrder,
)
from hjemflyt.pathway.worklists.rules import (
    ADJUSTMENT_REVIEW_DAYS,
    CHANGE_OF_NEED_ANSWER_DAYS,
    DELIVERY_FLAG_FOLLOW_UP_DAYS,
    Holder,
    ItemKind,
    Position,
)
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.repository import Repository, scoped

ORDER_UNACKNOWLEDGED_TASK = "order_unacknowledged"


def _oslo_date(column: Any) -> Any:
    # Legal dates are Norway's: a timestamp's date in Europe/Oslo, not in UTC.
    return cast(func.timezone("Europe/Oslo", column), Date)


class WorklistRepository(Repository):
    # --- read models from events ----------------------------------------------------------

    async def order_sent(self, values: dict[str, Any], *, version: int, at: datetime) -> None:
        """A version of the order was sent and awaits an answer; an older one than known is ignored."""
        new = insert(ProviderOrder).values(**values, sent_version=version, sent_at=at)
        old = ProviderOrder.__table__.c
        newer = or_(old.sent_version.is_(None), new.excluded.sent_version > old.sent_version)
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[ProviderOrder.order_id],
                set_={
                    "sent_version": case((newer, new.excluded.sent_version), else_=old.sent_version),
                    "sent_at": case((newer, new.excluded.sent_at), else_=old.sent_at),
                    "decision_id": func.coalesce(old.decision_id, new.excluded.decision_id),
                    "district": func.coalesce(new.excluded.district, old.district),
                },
            )
        )

    async def order_acknowledged(
        self, values: dict[str, Any], *, version: int, at: datetime, accepted: bool
    ) -> None:
        """The provider answered a version; kept even before the order is known (other stream)."""
        new = insert(ProviderOrder).values(**values, acked_version=version, acked_at=at, accepted=accepted)
        old = ProviderOrder.__table__.c
        newer = or_(old.acked_version.is_(None), new.excluded.acked_version > old.acked_version)
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[ProviderOrder.order_id],
                set_={
                    "acked_version": case((newer, new.excluded.acked_version), else_=old.acked_version),
                    "acked_at": case((newer, new.excluded.acked_at), else_=old.acked_at),
                    "accepted": case((newer, new.excluded.accepted), else_=old.accepted),
                    "decision_id": func.coalesce(old.decision_id, new.excluded.decision_id),
                    "district": func.coalesce(new.excluded.district, old.district),
                },
            )
        )

    async def order_ended(self, values: dict[str, Any], *, at: datetime) -> None:
        """Ended is final: the first end counts, later copies change nothing."""
        new = insert(ProviderOrder).values(**values, ended_at=at)
        old = ProviderOrder.__table__.c
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[ProviderOrder.order_id],
                set_={
                    "ended_at": func.coalesce(old.ended_at, new.excluded.ended_at),
                    "decision_id": func.coalesce(old.decision_id, new.excluded.decision_id),
                    "district": func.coalesce(new.excluded.district, old.district),
                },
            )
        )

    async def change_of_need_reported(self, values: dict[str, Any]) -> None:
        new = insert(ChangeOfNeedReport).values(**values)
        old = ChangeOfNeedReport.__table__.c
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[ChangeOfNeedReport.change_of_need_id],
                set_={
                    "reported_at": func.coalesce(old.reported_at, new.excluded.reported_at),
                    "proposed_hours_per_month": func.coalesce(
                        old.proposed_hours_per_month, new.excluded.proposed_hours_per_month
                    ),
                },
            )
        )

    async def change_of_need_answered(self, values: dict[str, Any]) -> None:
        """The first answer counts (notifications refuses a second); a copy changes nothing."""
        new = insert(ChangeOfNeedReport).values(**values)
        old = ChangeOfNeedReport.__table__.c
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[ChangeOfNeedReport.change_of_need_id],
                set_={
                    "answered_at": func.coalesce(old.answered_at, new.excluded.answered_at),
                    "outcome": func.coalesce(old.outcome, new.excluded.outcome),
                },
            )
        )

    async def adjustment_logged(self, values: dict[str, Any]) -> None:
        new = insert(AdjustmentLogged).values(**values)
        old = AdjustmentLogged.__table__.c
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[AdjustmentLogged.adjustment_id],
                set_={
                    "adjusted_at": func.coalesce(old.adjusted_at, new.excluded.adjusted_at),
                    "change": func.coalesce(old.change, new.excluded.change),
                    "reason": func.coalesce(old.reason, new.excluded.reason),
                },
            )
        )

    async def adjustment_overruled(self, values: dict[str, Any]) -> None:
        """The first overrule counts (notifications refuses a second); a copy changes nothing."""
        new = insert(AdjustmentLogged).values(**values)
        old = AdjustmentLogged.__table__.c
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[AdjustmentLogged.adjustment_id],
                set_={"overruled_at": func.coalesce(old.overruled_at, new.excluded.overruled_at)},
            )
        )

    async def task_opened(self, values: dict[str, Any]) -> None:
        new = insert(CaseTask).values(**values)
        old = CaseTask.__table__.c
        keep = ("district", "person_id", "provider_org", "order_id", "due_date", "opened_at")
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[CaseTask.task_id],
                set_={k: func.coalesce(old[k], new.excluded[k]) for k in keep},
            )
        )

    async def task_closed(self, values: dict[str, Any]) -> None:
        new = insert(CaseTask).values(**values)
        old = CaseTask.__table__.c
        keep = ("district", "person_id", "closed_at", "resolution")
        await self.session.execute(
            new.on_conflict_do_update(
                index_elements=[CaseTask.task_id],
                set_={k: func.coalesce(old[k], new.excluded[k]) for k in keep},
            )
        )

    async def delivery_flagged(self, values: dict[str, Any]) -> None:
        """One row per flag (budget raises each once; a copy changes nothing)."""
        await self.session.execute(insert(DeliveryFlag).values(**values).on_conflict_do_nothing())

    # --- worklists ------------------------------------------------------------------------

    def _reassessment_due(self, today: date) -> Select[Any]:
        d = PersonDecision
        return select(
            literal(ItemKind.reassessment_due.value).label("kind"),
            d.person_id.label("person_id"),
            d.district.label("district"),
            cast(d.decision_id, String).label("reference_id"),
            d.evaluation_date.label("since"),
            d.evaluation_date.label("due"),
            func.jsonb_build_object(
                "decision_id", d.decision_id, "decision_version", d.version, "end_date", d.end_date
            ).label("details"),
        ).where(
            d.status != "ended",
            d.evaluation_date <= today,
            or_(d.end_date.is_(None), d.end_date >= today),
        )

    def _change_of_need_unanswered(self) -> Select[Any]:
        c = ChangeOfNeedReport
        reported_on = _oslo_date(c.reported_at)
        return select(
            literal(ItemKind.change_of_need_unanswered.value).label("kind"),
            c.person_id.label("person_id"),
            c.district.label("district"),
            cast(c.change_of_need_id, String).label("reference_id"),
            reported_on.label("since"),
            (reported_on + CHANGE_OF_NEED_ANSWER_DAYS).label("due"),
            func.jsonb_build_object(
                "order_id",
                c.order_id,
                "provider_org",
                c.provider_org,
                "proposed_hours_per_month",
                c.proposed_hours_per_month,
            ).label("details"),
        ).where(c.reported_at.is_not(None), c.answered_at.is_(None))

    def _adjustment_logged(self, today: date) -> Select[Any]:
        a = AdjustmentLogged
        adjusted_on = _oslo_date(a.adjusted_at)
        return select(
            literal(ItemKind.adjustment_logged.value).label("kind"),
            a.person_id.label("person_id"),
            a.district.label("district"),
            cast(a.adjustment_id, String).label("reference_id"),
            adjusted_on.label("since"),
            (adjusted_on + ADJUSTMENT_REVIEW_DAYS).label("due"),
            func.jsonb_build_object(
                "order_id",
                a.order_id,
                "provider_org",
                a.provider_org,
                "service_type",
                a.service_type,
                "measure_code",
                a.measure_code,
                "measure_description",
                a.measure_description,
                "change",
                a.change,
                "reason",
                a.reason,
            ).label("details"),
        ).where(
            a.adjusted_at.is_not(None),
            a.overruled_at.is_(None),
            adjusted_on + ADJUSTMENT_REVIEW_DAYS >= today,
        )

    def _order_unacknowledged(self, now: datetime, ack_within: timedelta) -> Select[Any]:
        o, d, t = ProviderOrder, PersonDecision, CaseTask
        deadline = o.sent_at + ack_within
        escalated = exists().where(
            t.order_id == o.order_id, t.kind == ORDER_UNACKNOWLEDGED_TASK, t.closed_at.is_(None)
        )
        return (
            select(
                literal(ItemKind.order_unacknowledged.value).label("kind"),
                o.person_id.label("person_id"),
                func.coalesce(o.district, d.district).label("district"),
                cast(o.order_id, String).label("reference_id"),
                _oslo_date(o.sent_at).label("since"),
                _oslo_date(deadline).label("due"),
                func.jsonb_build_object(
                    "provider_org",
                    o.provider_org,
                    "decision_id",
                    o.decision_id,
                    "version",
                    o.sent_version,
                    "deadline",
                    deadline,
                    "escalated",
                    escalated,
                ).label("details"),
            )
            .select_from(o)
            .outerjoin(d, d.decision_id == o.decision_id)
            .where(
                o.sent_version.is_not(None),
                o.ended_at.is_(None),
                or_(o.acked_version.is_(None), o.acked_version < o.sent_version),
                # Past the deadline pathway knows, or escalated by notifications (its own clock).
                or_(deadline <= now, escalated),
            )
        )

    def _delivery_flagged(self) -> Select[Any]:
        """Flags not followed up: no decision of the person was made, changed or ended since
        the flag (a decision that fits the need again is how the case office answers one)."""
        f, d = DeliveryFlag, PersonDecision
        flagged_on = _oslo_date(f.flagged_at)
        answered = exists().where(d.person_id == f.person_id, d.changed_at > f.flagged_at)
        return select(
            literal(ItemKind.delivery_flagged.value).label("kind"),
            f.person_id.label("person_id"),
            f.district.label("district"),
            cast(f.flag_id, String).label("reference_id"),
            flagged_on.label("since"),
            (flagged_on + DELIVERY_FLAG_FOLLOW_UP_DAYS).label("due"),
            func.jsonb_build_object(
                "flag",
                f.kind,
                "provider_org",
                f.provider_org,
                "month",
                f.month,
                "decided_hours",
                f.decided_hours,
                "frame_min_hours",
                f.frame_min_hours,
                "frame_max_hours",
                f.frame_max_hours,
                "delivered_hours",
                f.delivered_hours,
            ).label("details"),
        ).where(~answered)

    def _overdue_pathway(self, today: date) -> Select[Any]:
        # The pathway module's table, read only: open pathways past their planned end.
        p = Pathway
        return select(
            literal(ItemKind.overdue_pathway.value).label("kind"),
            p.person_id.label("person_id"),
            p.district.label("district"),
            cast(p.id, String).label("reference_id"),
            p.opened_on.label("since"),
            p.planned_end.label("due"),
            func.jsonb_build_object("pathway_kind", p.kind, "opened_on", p.opened_on).label("details"),
        ).where(p.status == "open", p.planned_end.is_not(None), p.planned_end < today)

    def _held_by(self, holder: Holder, holder_id: str, person_id: Any) -> Any:
        r, pc, o = Responsibility, PrimaryContact, ProviderOrder
        named = {
            Holder.case_officers: r.case_officer,
            Holder.service_leads: r.service_lead,
            Holder.teams: r.team,
            Holder.primary_contacts: r.primary_contact,
        }
        by_municipality = exists().where(r.person_id == person_id, named[holder] == holder_id)
        if holder != Holder.primary_contacts:
            return by_municipality
        # A provider's primary contact counts while the order they were named for runs.
        by_provider = exists(
            select(pc.order_id)
            .outerjoin(o, o.order_id == pc.order_id)
            .where(pc.person_id == person_id, pc.staff_id == holder_id, o.ended_at.is_(None))
        )
        return or_(by_municipality, by_provider)

    async def items(
        self,
        principal: Principal,
        holder: Holder,
        holder_id: str,
        *,
        today: date,
        now: datetime,
        ack_within: timedelta,
        kinds: Collection[ItemKind] = (),
        after: Position | None = None,
        limit: int = 100,
    ) -> Sequence[Row[Any]]:
        """The holder's items in districts the principal sees, by due date."""
        parts: dict[ItemKind, Callable[[], Select[Any]]] = {
            ItemKind.overdue_pathway: lambda: self._overdue_pathway(today),
            ItemKind.reassessment_due: lambda: self._reassessment_due(today),
            ItemKind.change_of_need_unanswered: self._change_of_need_unanswered,
            ItemKind.order_unacknowledged: lambda: self._order_unacknowledged(now, ack_within),
            ItemKind.adjustment_logged: lambda: self._adjustment_logged(today),
            ItemKind.delivery_flagged: self._delivery_flagged,
        }
        wanted = [parts[k]() for k in ItemKind if not kinds or k in kinds]
        u = union_all(*wanted).subquery("item")
        stmt = select(u)
        if holder == Holder.districts:
            stmt = stmt.where(u.c.district == holder_id)
        else:
            stmt = stmt.where(self._held_by(holder, holder_id, u.c.person_id))
        stmt = scoped(stmt, principal, district=u.c.district)
        if after is not None:
            stmt = stmt.where(tuple_(u.c.due, u.c.kind, u.c.reference_id) > tuple_(*after))
        stmt = stmt.order_by(u.c.due, u.c.kind, u.c.reference_id).limit(limit)
        return (await self.session.execute(stmt)).all()
