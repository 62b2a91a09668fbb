"""The financing rules without IO: Stavanger 2022 amounts, refused rule sets, apportioning."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hjemflyt.budget.financing import rules
from hjemflyt.budget.financing.defaults import PURCHASER_PROVIDER, STAVANGER_2022_LEVELS
from hjemflyt.budget.financing.rules import Band, LevelsModel, RuleSetBody, apportion

S = STAVANGER_2022_LEVELS


def test_stavanger_2022_annual_amount_per_level_to_the_ore():
    amounts = {b.level: rules.annual_ore(S, b) for b in S.bands}
    # DOMAIN § 6: funded hours * 799 kr * 12. Base 34 133.28 kr ("34 133 NOK").
    assert amounts == {
        "base": 3_413_328,
        "1": 28_764_000,
        "2": 47_940_000,
        "3": 67_116_000,
        "4": 86_292_000,
    }


def test_the_cliff_at_20_hours_is_743_percent_and_about_253_000_kr():
    edges = rules.cliffs(S)
    base_to_1 = edges[0]
    assert base_to_1[:2] == ("base", "1")
    assert base_to_1[2] == 28_764_000 - 3_413_328 == 25_350_672  # about 253 000 kr a year
    assert base_to_1[3] == Decimal("742.7")  # "743 % more than base"
    assert round(base_to_1[3]) == 743
    assert rules.band_for(S, Decimal("19.99")).level == "base"
    assert rules.band_for(S, Decimal(20)).level == "1"
    assert rules.band_for(S, Decimal(100)).level == "4"
    assert rules.band_for(S, Decimal(250)).level == "4"


def test_focus_users_are_funded_from_the_first_month_above_100_hours_outside_pauses():
    tertial = [1, 2, 3, 4]
    actual = {1: Decimal(95), 2: Decimal(120), 3: Decimal(80), 4: Decimal(130)}
    assert rules.focus_months(actual, S.focus_threshold_hours, tertial) == [2, 3, 4]
    # (120-90) + 0 (80 < 90) + (130-90) = 70 hours above level 4, at 799 kr.
    assert rules.focus_extra_ore(S, actual, tertial) == 70 * 79_900
    # A pause in month 4 stops only the part above level 4.
    assert rules.focus_extra_ore(S, actual, tertial, paused_months=[4]) == 30 * 79_900
    assert rules.focus_extra_ore(S, {1: Decimal(100)}, tertial) == 0  # not *more* than 100


def band(level: str, low: str, high: str | None, funded: str = "1") -> Band:
    return Band(
        level=level,
        from_hours=Decimal(low),
        to_hours=None if high is None else Decimal(high),
        funded_hours=Decimal(funded),
    )


@pytest.mark.parametrize(
    ("bands", "reason"),
    [
        ([band("a", "0", "20"), band("b", "15", None)], "overlaps"),
        ([band("a", "0", "20"), band("b", "25", None)], "gap between band a and band b: 20-25 h"),
        ([band("a", "5", None)], "first band starts at 5"),
        ([band("a", "0", "20"), band("b", "20", "40")], "last band ends at 40"),
        ([band("a", "0", None), band("b", "20", None)], "open-ended"),
        ([band("a", "0", "20"), band("a", "20", None)], "same level name"),
    ],
)
def test_bands_that_overlap_or_leave_gaps_are_refused_with_the_reason(bands, reason):
    with pytest.raises(ValidationError) as refused:
        S.model_copy(update={"bands": bands}).model_validate(S.model_dump() | {"bands": bands})
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rate_ore_per_hour": -1}, "greater than or equal to 0"),
        ({"general_share": "1.2"}, "less than or equal to 1"),
        ({"general_share": "0.9", "buffer_share": "0.1"}, "user-directed part"),
        ({"skill_mix_weights": {"15": "-1"}}, "negative"),
    ],
)
def test_negative_rates_and_shares_over_100_percent_are_refused(change, reason):
    with pytest.raises(ValidationError) as refused:
        LevelsModel.model_validate(S.model_dump() | change)
    assert reason in str(refused.value)


def test_a_rule_set_cannot_finance_one_unit_twice():
    body = PURCHASER_PROVIDER.model_dump()
    body["parts"].append(body["parts"][0])
    with pytest.raises(ValidationError, match="same kind of unit"):
        RuleSetBody.model_validate(body)
    named = {"applies_to": ["974760673"], "financing": {"model": "frame", "frames_ore": {"974760673": 1}}}
    body = PURCHASER_PROVIDER.model_dump()
    body["parts"] += [named, named]
    with pytest.raises(ValidationError, match="named in two parts"):
        RuleSetBody.model_validate(body)


def test_the_part_naming_a_unit_wins_over_its_kind():
    named = {"applies_to": ["974760673"], "financing": {"model": "frame", "frames_ore": {"974760673": 1}}}
    rs = RuleSetBody.model_validate(PURCHASER_PROVIDER.model_dump() | {"valid_from": date(2023, 1, 1)})
    rs = RuleSetBody.model_validate(rs.model_dump() | {"parts": [*rs.model_dump()["parts"], named]})
    assert rs.part_for("974760673", "private").financing.model == "frame"  # type: ignore[union-attr]
    assert rs.part_for("923609016", "private").financing.model == "hourly"  # type: ignore[union-attr]
    assert rs.part_for("923609016", "municipal").financing.model == "levels"  # type: ignore[union-attr]


def test_activity_and_hourly_amounts():
    model = rules.ActivityModel(rate_ore_per_hour=60_000, norms_minutes={"shower": 30, "eye-drops": 10})
    assert rules.activity_ore(model, ["shower", "eye-drops", "eye-drops", "unknown"]) == 50 * 1_000
    assert rules.hourly_ore(Decimal("12.25"), 65_000) == 796_250


@given(
    total=st.integers(min_value=0, max_value=10**13),
    weights=st.dictionaries(
        st.text(min_size=1, max_size=3),
        st.one_of(
            st.integers(min_value=0, max_value=10**9), st.decimals(min_value=0, max_value=10**6, places=2)
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_apportioned_shares_add_up_to_the_total_to_the_ore(total, weights):
    shares = apportion(total, weights)
    assert sum(shares.values()) == total
    assert shares.keys() == weights.keys()
    whole = sum(Decimal(w) for w in weights.values())
    for k, share in shares.items():
        exact = Decimal(total) * Decimal(weights[k]) / whole if whole else Decimal(total) / len(weights)
        assert abs(share - exact) < 1 + Decimal("1e-9")  # never more than one øre off its exact share


def test_apportioning_is_deterministic_and_refuses_nonsense():
    assert apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert apportion(0, {}) == {}
    with pytest.raises(ValueError, match="negative"):
        apportion(-1, {"a": 1})
    with pytest.raises(ValueError, match="nothing to apportion"):
        apportion(5, {})
