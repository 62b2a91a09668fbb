"""Pure rules of worklists and named responsibility (no IO)."""

from __future__ import annotations

from datetime import date

import pytest

from hjemflyt.pathway.responsibility.rules import Gap, gaps, staff_id_problem
from hjemflyt.pathway.worklists.rules import (
    change_of_need_due,
    decode_position,
    encode_position,
    overdue_days,
)
from hjemflyt.shared.platform.errors import Problem


@pytest.mark.parametrize("value", ["nurse-17", "A1234", "ola.n@oslo.kommune.no", "hvk:123"])
def test_staff_ids_are_one_token(value):
    assert staff_id_problem(value) is None


@pytest.mark.parametrize("value", ["Kari Nordmann", "", " x", "01017012345", "x" * 65, "æøå"])
def test_names_and_identity_numbers_are_not_staff_ids(value):
    assert staff_id_problem(value) is not None


def test_both_a_service_lead_and_a_primary_contact_are_required():
    assert gaps(service_lead=None, primary_contacts=0) == [Gap.service_lead, Gap.primary_contact]
    assert gaps(service_lead="lead-1", primary_contacts=0) == [Gap.primary_contact]
    assert gaps(service_lead=None, primary_contacts=2) == [Gap.service_lead]
    assert gaps(service_lead="lead-1", primary_contacts=1) == []


def test_due_dates_and_days_overdue():
    assert change_of_need_due(date(2026, 12, 25)) == date(2027, 1, 8)
    assert overdue_days(date(2026, 11, 20), date(2026, 11, 22)) == 2
    assert overdue_days(date(2026, 11, 24), date(2026, 11, 22)) == 0


def test_the_cursor_round_trips_and_refuses_forgeries():
    cursor = encode_position(date(2026, 11, 1), "reassessment_due", "abc")
    assert decode_position(cursor) == (date(2026, 11, 1), "reassessment_due", "abc")
    assert decode_position(None) is None
    with pytest.raises(Problem):
        decode_position("nonsense")
