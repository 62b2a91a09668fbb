"""The field-level diff of two order versions (orders.rules.changes) and the names the
pseudonymous `order.changed` carries (changed_fields). Plain unit tests, no IO."""

from __future__ import annotations

import copy
from typing import Any

from hjemflyt.notifications.orders.rules import changed_fields, changes, measure_changes


def measure(
    description: str, times: int, per: str, minutes: int | None = None, code: str | None = None
) -> dict:
    return {"code": code, "description": description, "times": times, "per": per, "minutes": minutes}


def service(**fields: Any) -> dict:
    return {
        "service_code": "15",
        "service_name": "Helsetjenester i hjemmet",
        "service_type": "home-nursing",
        "provider_org": "320000009",
        "outcome": "granted",
        "scope_kind": "hours_per_month",
        "hours_per_month": "12.00",
        "frame_min_hours": None,
        "frame_max_hours": None,
        "measures": [measure("Sårstell", 3, "week"), measure("Oppfølging av faste medisiner", 1, "day")],
        **fields,
    }


def content(**fields: Any) -> dict:
    return {
        "basis": "decision",
        "recipient": {"identity_number": "x", "name": "Kari", "address": "Gata 1", "phone": None},
        "organisation_model": "professional_freedom",
        "services": [service()],
        "decision_date": "2026-12-01",
        "start_date": "2026-12-08",
        "end_date": None,
        "evaluation_date": "2027-02-06",
        "purpose": "Mest mulig selvhjulpen.",
        "user_goal": "Gå tur med hunden.",
        "end_reason": None,
        "case_office_contact": "Forvaltning",
        "pathway": None,
        "routines": None,
        **fields,
    }


def test_the_same_content_is_no_change():
    assert changes(content(), copy.deepcopy(content())) == {}
    # Hours compare as numbers: "12.5" and "12.50" are the same scope.
    assert (
        changes(
            content(services=[service(hours_per_month="12.5")]),
            content(services=[service(hours_per_month="12.50")]),
        )
        == {}
    )


def test_hours_frames_scope_kind_and_outcome_change_field_by_field():
    before = content()
    after = content(
        services=[
            service(
                scope_kind="frame",
                hours_per_month="20.00",
                frame_min_hours="10.00",
                frame_max_hours="20.00",
                outcome="partly_granted",
            )
        ]
    )
    diff = changes(before, after)
    assert diff == {
        "services": {
            "added": [],
            "removed": [],
            "changed": [
                {
                    "service_code": "15",
                    "service_type": "home-nursing",
                    "hours_per_month": {"from": "12.00", "to": "20.00"},
                    "frame_min_hours": {"from": None, "to": "10.00"},
                    "frame_max_hours": {"from": None, "to": "20.00"},
                    "outcome": {"from": "granted", "to": "partly_granted"},
                    "scope_kind": {"from": "hours_per_month", "to": "frame"},
                }
            ],
        }
    }
    assert changed_fields(diff) == [
        "frame_max_hours",
        "frame_min_hours",
        "hours_per_month",
        "outcome",
        "scope_kind",
    ]
    # A frame that moves only its minimum names only the minimum.
    narrower = content(
        services=[service(scope_kind="frame", frame_min_hours="12.00", frame_max_hours="20.00")]
    )
    wider = content(services=[service(scope_kind="frame", frame_min_hours="8", frame_max_hours="20.0")])
    diff = changes(narrower, wider)
    assert diff["services"]["changed"] == [
        {
            "service_code": "15",
            "service_type": "home-nursing",
            "frame_min_hours": {"from": "12.00", "to": "8"},
        }
    ]


def test_measures_added_removed_and_changed_by_description():
    before = content()
    after = content(
        services=[
            service(
                measures=[
                    measure("Sårstell", 2, "week"),  # fewer times
                    measure("Hjelp til dusj", 1, "week"),  # new
                ]
            )
        ]
    )
    diff = changes(before, after)
    [changed] = diff["services"]["changed"]
    assert changed["measures"] == {
        "added": [measure("Hjelp til dusj", 1, "week")],
        "removed": [measure("Oppfølging av faste medisiner", 1, "day")],
        "changed": [
            {"code": None, "description": "Sårstell", "from": {"times": 3}, "to": {"times": 2}},
        ],
    }
    assert changed_fields(diff) == ["measures"]


def test_measures_with_a_code_match_by_code_and_show_per_and_minutes():
    before = content(services=[service(measures=[measure("Sårstell", 3, "week", 30, code="HS-01")])])
    after = content(services=[service(measures=[measure("Sårstell, legg", 1, "day", 20, code="HS-01")])])
    assert measure_changes(before["services"][0]["measures"], after["services"][0]["measures"]) == {
        "added": [],
        "removed": [],
        "changed": [
            {
                "code": "HS-01",
                "description": "Sårstell, legg",
                "from": {"description": "Sårstell", "times": 3, "per": "week", "minutes": 30},
                "to": {"description": "Sårstell, legg", "times": 1, "per": "day", "minutes": 20},
            }
        ],
    }
    # Measures in another order are the same measures.
    two = [measure("A", 1, "day"), measure("B", 2, "week")]
    assert measure_changes(two, list(reversed(two))) is None


def test_services_added_and_removed():
    help_ = service(
        service_code="1", service_type="practical-help", service_name="Praktisk bistand", measures=[]
    )
    diff = changes(content(), content(services=[service(), help_]))
    assert diff == {"services": {"added": [help_], "removed": [], "changed": []}}
    assert changed_fields(diff) == ["services"]
    diff = changes(content(services=[service(), help_]), content())
    assert diff["services"]["removed"] == [help_]


def test_the_order_terms_change_field_by_field():
    pathway = {"pathway_id": "p", "kind": 1, "opened_on": "2026-12-01", "planned_end": "2026-12-15"}
    routines = {"district": "frogner", "version": 2, "published_at": "2026-12-01T08:00:00+00:00"}
    after = content(
        purpose="Trygg hverdag.",
        user_goal="Lage middag selv.",
        evaluation_date="2027-03-01",
        decision_date="2026-12-02",
        start_date="2026-12-09",
        end_date="2027-06-30",
        case_office_contact="Forvaltning Frogner",
        organisation_model="trust_model",
        pathway=pathway,
        routines=routines,
    )
    diff = changes(content(), after)
    assert diff == {
        "purpose": {"from": "Mest mulig selvhjulpen.", "to": "Trygg hverdag."},
        "user_goal": {"from": "Gå tur med hunden.", "to": "Lage middag selv."},
        "evaluation_date": {"from": "2027-02-06", "to": "2027-03-01"},
        "decision_date": {"from": "2026-12-01", "to": "2026-12-02"},
        "start_date": {"from": "2026-12-08", "to": "2026-12-09"},
        "end_date": {"from": None, "to": "2027-06-30"},
        "case_office_contact": {"from": "Forvaltning", "to": "Forvaltning Frogner"},
        "organisation_model": {"from": "professional_freedom", "to": "trust_model"},
        "pathway": {"from": None, "to": pathway},
        "routines": {"from": None, "to": routines},
    }
    assert changed_fields(diff) == sorted(diff)


def test_content_stored_before_the_structured_order_reads_as_without_measures():
    old = {
        "recipient": content()["recipient"],
        "services": [
            {
                k: v
                for k, v in service().items()
                if k not in ("measures", "frame_min_hours", "frame_max_hours")
            }
        ],
        "start_date": "2026-12-08",
        "end_date": None,
        "case_office_contact": "Forvaltning",
        "routines": None,
    }
    diff = changes(old, content())
    assert diff["services"]["changed"][0]["measures"]["added"] == service()["measures"]
    assert "frame_min_hours" not in diff["services"]["changed"][0]
    assert diff["purpose"] == {"from": None, "to": "Mest mulig selvhjulpen."}
