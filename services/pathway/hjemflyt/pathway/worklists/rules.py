"""Pure rules of the worklists: what is on a list, for whom, and when it is due."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from hjemflyt.shared.platform.errors import Problem
from hjemflyt.shared.platform.pagination import decode_cursor, encode_cursor


class ItemKind(StrEnum):
    overdue_pathway = "overdue_pathway"
    reassessment_due = "reassessment_due"
    change_of_need_unanswered = "change_of_need_unanswered"
    order_unacknowledged = "order_unacknowledged"
    # A provider's adjustment inside a decision, shown to the case office for review for
    # ADJUSTMENT_REVIEW_DAYS (it needs no answer; the case office may overrule it).
    adjustment_logged = "adjustment_logged"
    delivery_flagged = "delivery_flagged"


class Holder(StrEnum):
    """Whose worklist: the path segment names the kind of holder."""

    case_officers = "case-officers"
    service_leads = "service-leads"
    primary_contacts = "primary-contacts"
    teams = "teams"
    districts = "districts"


# No rule gives the case office a deadline to answer a change-of-need report; two weeks
# keeps it inside the month forvaltningsloven § 11 a allows before a preliminary reply.
CHANGE_OF_NEED_ANSWER_DAYS = 14


# How long a provider's adjustment stays on the case office's worklist for review.
ADJUSTMENT_REVIEW_DAYS = 14


# No rule sets a deadline for following up a delivery far from the decision either; the
# same two weeks as a change-of-need report: both ask whether the decision still fits.
DELIVERY_FLAG_FOLLOW_UP_DAYS = 14


def change_of_need_due(reported_on: date) -> date:
    return reported_on + timedelta(days=CHANGE_OF_NEED_ANSWER_DAYS)


def overdue_days(due: date, today: date) -> int:
    """Days past due (0 when due today or later)."""
    return max((today - due).days, 0)


Position = tuple[date, str, str]


def encode_position(due: date, kind: str, reference_id: str) -> str:
    return encode_cursor({"due": due.isoformat(), "kind": kind, "ref": reference_id})


def decode_position(cursor: str | None) -> Position | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return date.fromisoformat(values["due"]), str(values["kind"]), str(values["ref"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Problem("The cursor is not one this API gave out.", slug="invalid-cursor", status=400) from exc
