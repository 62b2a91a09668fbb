"""The bounds of a provider's adjustment (pure rules, no IO)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from hjemflyt.notifications.adjustments import rules
from hjemflyt.notifications.adjustments.rules import Accepted, Measure, Plan, Proposal, Refusal


def order(model: str | None = "professional_freedom", **service: object) -> dict:
    base = {
        "service_code": "15",
        "service_type": "hjemmesykepleie",
        "service_name": "Helsetjenester i hjemmet",
        "outcome": "granted",
        "scope_kind": "frame",
        "hours_per_month": "20.00",
        "frame_min_hours": "8.00",
        "frame_max_hours": "20.00",
        "measures": [
            {"code": "SAR", "description": "Sårstell", "times": 3, "per": "week", "minutes": 30},
            {
                "code": None,
                "description": "Oppfølging av faste medisiner",
                "times": 1,
                "per": "day",
                "minutes": 15,
            },
        ],
    }
    content: dict = {"services": [{**base, **service}]}
    if model is not None:
        content["organisation_model"] = model
    return content


def wound(**change: object) -> Proposal:
    return Proposal(service_type="hjemmesykepleie", measure_code="SAR", measure_description=None, **change)


def planned(measures: list[dict]) -> Fraction:
    out = rules.planned_hours(rules.measure_from(m) for m in measures)  # type: ignore[misc]
    assert out is not None
    return out


def test_the_order_plans_hours_from_frequency_and_minutes():
    # 3 a week x 30 min = 6.52 h; daily 15 min = 7.61 h: 14.13 h a month.
    assert rules.hours(planned(order()["services"][0]["measures"])) == Decimal("14.13")


def test_inside_the_frame_is_accepted_with_the_plan_before_and_after():
    verdict = rules.assess(order(), wound(times=2))
    assert isinstance(verdict, Accepted)
    assert verdict.before == Measure("SAR", "Sårstell", Plan(3, "week", 30))
    assert verdict.after == Measure("SAR", "Sårstell", Plan(2, "week", 30))
    assert rules.hours(verdict.planned_before) == Decimal("14.13")
    assert rules.hours(verdict.planned_after) == Decimal("11.96")
    assert verdict.bounds == {
        "scope_kind": "frame",
        "min_hours": Decimal("8.00"),
        "max_hours": Decimal("20.00"),
    }


def test_the_trust_model_adjusts_too():
    assert isinstance(rules.assess(order("trust_model"), wound(times=2)), Accepted)


def test_above_the_frame_maximum_is_refused():
    verdict = rules.assess(order(), wound(times=7, minutes=45))
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "adjustment-outside-decision"
    assert verdict.change_of_need
    assert "maximum" in verdict.detail


def test_below_the_frame_minimum_is_refused():
    verdict = rules.assess(order(), wound(times=1, minutes=10))
    assert isinstance(verdict, Accepted)  # 8.33 h: still inside
    verdict = rules.assess(
        order(),
        Proposal(
            service_type="hjemmesykepleie",
            measure_code=None,
            measure_description="oppfølging av  faste medisiner",  # matched regardless of case and spaces
            per="week",
        ),  # once a week: 6.52 + 1.09 = 7.61 h
    )
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "adjustment-outside-decision"
    assert "minimum" in verdict.detail


def test_hours_per_month_are_the_ceiling():
    content = order(
        scope_kind="hours_per_month", hours_per_month="16", frame_min_hours=None, frame_max_hours=None
    )
    assert isinstance(rules.assess(content, wound(minutes=35)), Accepted)  # 15.22 h
    verdict = rules.assess(content, wound(minutes=40))  # 16.31 h
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "adjustment-outside-decision"
    assert "decided hours" in verdict.detail
    # No floor for hours per month: cutting is the provider's to do.
    assert isinstance(rules.assess(content, wound(times=1, minutes=10)), Accepted)


def test_a_frame_without_its_own_maximum_uses_the_decided_hours():
    content = order(frame_max_hours=None, hours_per_month="15")
    assert isinstance(rules.assess(content, wound(minutes=40)), Refusal)


def test_moving_towards_the_bounds_is_allowed_when_the_decision_was_outside():
    content = order(frame_max_hours="10")  # the decided measures plan 14.13 h already
    assert isinstance(rules.assess(content, wound(times=2)), Accepted)
    assert isinstance(rules.assess(content, wound(times=4)), Refusal)


def test_measures_without_minutes_change_frequency_freely():
    content = order(measures=[{"code": "SAR", "description": "Sårstell", "times": 3, "per": "week"}])
    verdict = rules.assess(content, wound(times=7))
    assert isinstance(verdict, Accepted)
    assert verdict.planned_before is None
    assert verdict.planned_after is None


@pytest.mark.parametrize("model", ["purchaser_provider", None, "something-else"])
def test_purchaser_provider_or_no_model_needs_a_change_notice(model):
    verdict = rules.assess(order(model), wound(times=2))
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "change-notice-required"
    assert verdict.change_of_need


def test_a_service_or_measure_the_order_does_not_hold_is_refused():
    verdict = rules.assess(order(), Proposal("praktisk-bistand", "SAR", None, times=2))
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "service-not-ordered"
    verdict = rules.assess(order(outcome="refused"), wound(times=2))
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "service-not-ordered"
    verdict = rules.assess(order(), Proposal("hjemmesykepleie", "DUSJ", None, times=2))
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "measure-not-ordered"
    # The service may be named by its IPLOS code too.
    assert isinstance(rules.assess(order(), Proposal("15", "SAR", None, times=2)), Accepted)


def test_a_new_measure_is_a_content_change_inside_the_frame():
    new = Proposal(
        "hjemmesykepleie", None, "Hjelp til dusj", new_measure=True, times=1, per="week", minutes=30
    )
    verdict = rules.assess(order(), new)
    assert isinstance(verdict, Accepted)
    assert verdict.before is None
    assert verdict.after == Measure(None, "Hjelp til dusj", Plan(1, "week", 30))
    big = Proposal(
        "hjemmesykepleie", None, "Hjelp til dusj", new_measure=True, times=1, per="day", minutes=30
    )
    assert isinstance(rules.assess(order(), big), Refusal)
    again = Proposal("hjemmesykepleie", "SAR", None, new_measure=True, times=1, per="week")
    assert rules.assess(order(), again) == Refusal(
        "measure-already-ordered",
        "The order holds this measure already: adjust it instead.",
        change_of_need=False,
    )


def test_earlier_adjustments_in_force_count():
    earlier = [Measure("SAR", "Sårstell", Plan(5, "week", 40))]  # 17.39 + 7.61 = 25 h: would be refused now
    verdict = rules.assess(order(), wound(times=6), earlier)
    assert isinstance(verdict, Refusal)
    verdict = rules.assess(order(), wound(times=2, times_from=3), earlier)
    assert isinstance(verdict, Refusal)
    assert (verdict.slug, verdict.status) == ("adjustment-from-mismatch", 409)
    verdict = rules.assess(order(), wound(times=4, times_from=5), earlier)
    assert isinstance(verdict, Accepted)
    assert verdict.before == earlier[0]


def test_nothing_changed_is_refused_but_content_alone_is_a_change():
    verdict = rules.assess(order(), wound(times=3))
    assert isinstance(verdict, Refusal)
    assert verdict.slug == "adjustment-changes-nothing"
    assert isinstance(rules.assess(order(), wound(content="Sårstell med ny bandasje")), Accepted)


def test_unreadable_content_is_read_defensively():
    content = {
        "organisation_model": "trust_model",
        "services": [
            "junk",
            {"service_type": "hjemmesykepleie", "hours_per_month": "n/a", "measures": [{"times": "x"}, None]},
        ],
    }
    (service,) = rules.services_from(content)
    assert service.hours_per_month is None
    assert service.measures == ()
    assert rules.services_from(None) == []


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        (["case_office"], True),
        (["unit_head", "head_of_services"], True),
        (["case_office", "unit_head", "head_of_services"], True),
        (["head_of_services", "unit_head"], False),
        (["unit_head", "unit_head"], False),
        ([], False),
        (["mayor"], False),
    ],
)
def test_escalation_runs_upwards(path, ok):
    assert (rules.escalation_problem(path) is None) is ok
