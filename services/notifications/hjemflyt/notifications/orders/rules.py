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


def _hours(value: Any) -> str:
    # Decimals travel as strings; compare "12.5" and "12.50" as the same hours.
    try:
        return format(float(value), "g")
    except (TypeError, ValueError):
        return str(value)


SERVICE_FIELDS = ("service_name", "outcome", "scope_kind")


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What changed for the provider between two versions of an order's content:
    services added and removed, hours and terms of the services kept, and the dates.
    Only what differs is present."""
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
        if _hours(a.get("hours_per_month")) != _hours(b.get("hours_per_month")):
            diff["hours_per_month"] = {"from": a.get("hours_per_month"), "to": b.get("hours_per_month")}
        for field in SERVICE_FIELDS:
            if a.get(field) != b.get(field):
                diff[field] = {"from": a.get(field), "to": b.get(field)}
        if diff:
            changed.append({"service_code": b["service_code"], "service_type": b.get("service_type"), **diff})
    if added or removed or changed:
        out["services"] = {"added": added, "removed": removed, "changed": changed}
    for field in ("start_date", "end_date", "case_office_contact"):
        if before.get(field) != after.get(field):
            out[field] = {"from": before.get(field), "to": after.get(field)}
    if before.get("recipient") != after.get("recipient"):
        out["recipient"] = {"from": before.get("recipient"), "to": after.get("recipient")}
    if before.get("routines") != after.get("routines"):
        out["routines"] = {"from": before.get("routines"), "to": after.get("routines")}
    return out


def changed_fields(diff: dict[str, Any]) -> list[str]:
    """The names of what changed, for the pseudonymous event (hours, services, dates)."""
    names = set(diff) - {"services"}
    services = diff.get("services")
    if services:
        if services["added"] or services["removed"]:
            names.add("services")
        for change in services["changed"]:
            names.update(k for k in change if k not in ("service_code", "service_type"))
    return sorted(names)
