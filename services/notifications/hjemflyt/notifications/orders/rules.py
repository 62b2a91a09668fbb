"""Pure rules of orders: statuses, what kind of message a decision version becomes, and
what changed between two versions of an order."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    sent = "sent"  # waiting for the provider to accept or reject
    accepted = "accepted"
    rejected = "rejected"
    paused = "paused"  # the person is admitted
    ended = "ended"


# Orders that still run: an admission pauses these.
RUNNING = frozenset({OrderStatus.sent, OrderStatus.accepted})
# Orders the provider no longer holds: a new version of the decision is a new order to it.
CLOSED = frozenset({OrderStatus.rejected, OrderStatus.ended})

# Message kinds of orders (`order.<kind>`); new and changed ask for an acknowledgement.
NEEDS_ACK = frozenset({"new", "changed"})


def message_kind(issued_kind: str, current_status: str | None) -> str:
    """What a decision version is to the provider: `new` if it holds no running order for
    the decision (none yet, or one it rejected or that ended), `ended` when it ends, else
    `changed`."""
    if issued_kind == "ended":
        return "ended"
    if current_status is None or current_status in CLOSED:
        return "new"
    return "changed"


def _service_key(service: dict[str, Any]) -> str:
    return str(service.get("service_type") or service["service_code"])


def _hours(value: Any) -> str | None:
    # Decimals travel as strings; compare "12.5" and "12.50" as the same hours.
    if value is None:
        return None
    try:
        return format(float(value), "g")
    except (TypeError, ValueError):
        return str(value)


# What is compared per service: hours (as numbers), the rest as they are; measures apart.
SERVICE_HOURS = ("hours_per_month", "frame_min_hours", "frame_max_hours")
SERVICE_FIELDS = ("service_name", "outcome", "scope_kind")
MEASURE_FIELDS = ("code", "description", "times", "per", "minutes")
# The order's terms, compared as they are (dates as ISO strings, objects as a whole).
TERMS = (
    "organisation_model",
    "decision_date",
    "start_date",
    "end_date",
    "evaluation_date",
    "purpose",
    "user_goal",
    "case_office_contact",
    "recipient",
    "pathway",
    "routines",
)


def _measure_key(measure: dict[str, Any]) -> tuple[str, str]:
    """A measure is the same measure by its catalogue code, or without one by its words."""
    code = measure.get("code")
    return ("code", str(code)) if code else ("description", str(measure.get("description")))


def measure_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Measures added, removed and changed (matched by code, else by description); a changed
    one names itself (`code`, `description`) and holds the fields that differ in `from`/`to`.
    None if nothing differs."""
    old = {_measure_key(m): m for m in before}
    new = {_measure_key(m): m for m in after}
    added = [m for k, m in new.items() if k not in old]
    removed = [m for k, m in old.items() if k not in new]
    changed = []
    for key, b in new.items():
        a = old.get(key)
        if a is None:
            continue
        differs = [f for f in MEASURE_FIELDS if a.get(f) != b.get(f)]
        if differs:
            changed.append(
                {
                    "code": b.get("code"),
                    "description": b.get("description"),
                    "from": {f: a.get(f) for f in differs},
                    "to": {f: b.get(f) for f in differs},
                }
            )
    if not (added or removed or changed):
        return None
    return {"added": added, "removed": removed, "changed": changed}


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed for the provider between two versions of an order's content, field by
    field: services added and removed; for a service kept its hours, frame (min, max),
    outcome, scope kind, name and measures (added, removed, changed); and the order's terms
    (`TERMS`: dates, purpose, the person's goal, contact, recipient, pathway, routines).
    Only what differs is present; every changed value is {"from": ..., "to": ...}."""
    out: dict[str, Any] = {}
    old = {_service_key(s): s for s in before.get("services", [])}
    new = {_service_key(s): s for s in after.get("services", [])}
    added = [new[k] for k in new if k not in old]
    removed = [old[k] for k in old if k not in new]
    changed = []
    for key in new:
        if key not in old:
            continue
        a, b = old[key], new[key]
        diff: dict[str, Any] = {}
        for field in SERVICE_HOURS:
            if _hours(a.get(field)) != _hours(b.get(field)):
                diff[field] = {"from": a.get(field), "to": b.get(field)}
        for field in SERVICE_FIELDS:
            if a.get(field) != b.get(field):
                diff[field] = {"from": a.get(field), "to": b.get(field)}
        measures = measure_changes(a.get("measures") or [], b.get("measures") or [])
        if measures is not None:
            diff["measures"] = measures
        if diff:
            changed.append({"service_code": b["service_code"], "service_type": b.get("service_type"), **diff})
    if added or removed or changed:
        out["services"] = {"added": added, "removed": removed, "changed": changed}
    for field in TERMS:
        if before.get(field) != after.get(field):
            out[field] = {"from": before.get(field), "to": after.get(field)}
    return out


def changed_fields(diff: dict[str, Any]) -> list[str]:
    """The names of what changed, for the pseudonymous `order.changed` (no values): `services`
    when one was added or removed, the service fields that changed (`hours_per_month`,
    `frame_min_hours`, `measures`, ...) and the terms (`purpose`, `evaluation_date`, ...)."""
    names = set(diff) - {"services"}
    services = diff.get("services")
    if services:
        if services["added"] or services["removed"]:
            names.add("services")
        for change in services["changed"]:
            names.update(k for k in change if k not in ("service_code", "service_type"))
    return sorted(names)
