"""Who sees a report: the provider that made it (or is its addressee), and the case office
of its district. Every repository of the reports modules filters through `visible`."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, false

from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.errors import Forbidden

S = TypeVar("S", bound=Select[Any])


def visible(stmt: S, model: Any, principal: Principal) -> S:
    """`model` has `provider_org` and `district` columns."""
    if principal.role == Role.provider:
        if not principal.provider_org:
            return stmt.where(false())
        return stmt.where(model.provider_org == principal.provider_org)
    if principal.all_districts:
        return stmt
    return stmt.where(model.district.in_(principal.districts))


def purpose(principal: Principal) -> str:
    """Why this principal reads a person's data (for the access log)."""
    return "service delivery" if principal.role == Role.provider else "case handling"


def provider_only(principal: Principal) -> str:
    """The provider's organisation; 403 for anyone else (reports are the provider's to make)."""
    if principal.role != Role.provider or not principal.provider_org:
        raise Forbidden("Only a provider reports this; use a provider token.")
    return principal.provider_org
