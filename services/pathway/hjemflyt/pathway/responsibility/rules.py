"""Pure rules of named responsibility: what a staff id may look like, and what is missing."""

from __future__ import annotations

import re
from enum import StrEnum

# Pseudonymous staff ids or staff user ids: one token, no spaces, so a name cannot fit.
STAFF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}$")
_IDENTITY_NUMBER = re.compile(r"^\d{11}$")


class Gap(StrEnum):
    service_lead = "service_lead"
    primary_contact = "primary_contact"


def staff_id_problem(value: str) -> str | None:
    """Why `value` is not acceptable as a staff id, or None."""
    if _IDENTITY_NUMBER.match(value):
        return "looks like an identity number: use the pseudonymous staff id"
    if not STAFF_ID.match(value):
        return "a staff id is one token of letters, digits and . _ : @ - (at most 64), never a name"
    return None


def gaps(*, service_lead: str | None, primary_contacts: int) -> list[Gap]:
    """What a person with running services lacks: both are required (DOMAIN § 1)."""
    missing = []
    if not service_lead:
        missing.append(Gap.service_lead)
    if primary_contacts == 0:
        missing.append(Gap.primary_contact)
    return missing
