"""Who sees which rows (`scoped`), written once for every repository."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, MetaData, Table, Text, select
from sqlalchemy.dialects import postgresql

from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.repository import scoped

ORDERS = Table("orders", MetaData(), Column("district", Text), Column("provider_org", Text))


def where(principal: Principal, *, provider: bool = True, district: bool = True) -> str:
    stmt = scoped(
        select(ORDERS),
        principal,
        district=ORDERS.c.district if district else None,
        provider=ORDERS.c.provider_org if provider else None,
    )
    sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    return sql.split("WHERE", 1)[1].strip() if "WHERE" in sql else ""


def principal(role: Role, **kw: object) -> Principal:
    return Principal(subject="s", role=role, tenant="oslo", **kw)  # type: ignore[arg-type]


def test_a_provider_sees_its_own_organisation_only() -> None:
    assert where(principal(Role.provider, provider_org="999999999")) == "orders.provider_org = '999999999'"
    assert where(principal(Role.provider, provider_org=None)) == "false"
    # A table without a provider column shows a provider nothing.
    assert where(principal(Role.provider, provider_org="999999999"), provider=False) == "false"


def test_district_roles_see_their_districts() -> None:
    officer = principal(Role.case_officer, districts=frozenset({"sagene", "frogner"}))
    assert where(officer) == "orders.district IN ('frogner', 'sagene')"
    assert where(principal(Role.citizen)) == "orders.district IN (NULL) AND (1 != 1)"  # no districts: none
    # A table bound to no district (configuration) is everyone's to read.
    assert where(officer, district=False) == ""


@pytest.mark.parametrize("role", [Role.integration, Role.manager, Role.auditor, Role.case_officer])
def test_all_districts_see_every_row(role: Role) -> None:
    assert where(principal(role, all_districts=True)) == ""
