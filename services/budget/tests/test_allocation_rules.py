"""The allocation engine without IO: Stavanger 2022 figures by hand, and properties over
random populations, rule sets and frames: every step adds up to the frame to the øre."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hjemflyt.budget.allocations import rules
from hjemflyt.budget.allocations.rules import CannotRedistribute, UnitState
from hjemflyt.budget.financing.defaults import PURCHASER_PROVIDER, STAVANGER_2022, STAVANGER_2022_LEVELS
from hjemflyt.budget.financing.rules import (
    Band,
    FrameModel,
    HourlyModel,
    LevelsModel,
    Part,
    RuleSetBody,
)
from hjemflyt.budget.hours.rules import PersonAtUnit

U1, U2, P1 = "912345678", "923456789", "934567890"
BASE, L1, L2, L4 = 3_413_328, 28_764_000, 47_940_000, 86_292_000


def person(org: str, hours: str, kind: str = "municipal", code: str = "15") -> PersonAtUnit:
    return PersonAtUnit(uuid.uuid4(), org, kind, "frogner", {code: Decimal(hours)})


def stavanger_unit(org: str = U1) -> list[PersonAtUnit]:
    """DOMAIN § 6: 88 % base, 9 % level 1, 3 % level 2."""
    return (
        [person(org, "10") for _ in range(88)]
        + [person(org, "25") for _ in range(9)]
        + [person(org, "45") for _ in range(3)]
    )


def test_stavanger_2022_one_unit_of_100_users_to_the_ore():
    result = rules.allocate(1_000_000_000, STAVANGER_2022, stavanger_unit())  # 10 MNOK
    need = 88 * BASE + 9 * L1 + 3 * L2
    assert need == 703_068_864  # 7 030 688.64 kr
    assert result.needs[U1].persons_per_level == {"base": 88, "1": 9, "2": 3, "3": 0, "4": 0}
    assert result.amounts == {U1: need}
    assert result.general_ore == 260_000_000  # 26 %
    # 1.2 % buffer plus what no unit needs: 12 000 000 + (728 000 000 - 703 068 864)
    assert result.buffer_ore == 12_000_000 + 24_931_136
    assert result.shortfall_ore == 0
    assert result.total() == 1_000_000_000


def test_needs_beyond_the_frame_are_scaled_and_the_shortfall_reported():
    result = rules.allocate(500_000_000, STAVANGER_2022, stavanger_unit(U1) + stavanger_unit(U2))
    left = 500_000_000 - 130_000_000 - 6_000_000
    assert result.amounts == {U1: left // 2, U2: left // 2}
    assert result.shortfall_ore == 2 * 703_068_864 - left
    assert result.buffer_ore == 6_000_000
    assert result.total() == 500_000_000


def test_hourly_units_use_the_part_price_else_the_contract_price_and_note_a_missing_one():
    population = [
        person(P1, "10", "private", "15"),
        person(P1, "5.5", "private", "1"),
        person(P1, "3", "private", "99"),
        person(U1, "25"),
    ]
    body = RuleSetBody(
        name="t",
        valid_from=date(2022, 1, 1),
        parts=[
            Part(applies_to="municipal", financing=STAVANGER_2022_LEVELS),
            Part(applies_to="private", financing=HourlyModel(prices_ore_per_hour={"15": 60_000})),
        ],
    )
    result = rules.allocate(10**10, body, population, prices={P1: {"15": 1, "1": 45_050}})
    # 10 h * 600 kr * 12 + 5.5 h * 450.50 kr * 12 = 72 000 + 29 733 kr
    assert result.needs[P1].need_ore == 10 * 60_000 * 12 + 2_973_300
    assert any("99" in n for n in result.needs[P1].notes)
    assert result.needs[U1].need_ore == L1
    assert result.total() == 10**10


def test_frame_units_get_their_frame_even_without_users_and_activity_units_nothing():
    body = RuleSetBody(
        name="t",
        valid_from=date(2022, 1, 1),
        parts=[Part(applies_to=[U2], financing=FrameModel(frames_ore={U2: 5_000_000}))]
        + [p for p in PURCHASER_PROVIDER.parts if p.applies_to == "municipal"],
    )
    result = rules.allocate(100_000_000, body, [person(U1, "3")], units={U2: "municipal", P1: "private"})
    assert result.amounts == {U1: BASE, U2: 5_000_000, P1: 0}
    assert result.needs[P1].model == "none"
    assert result.total() == 100_000_000


@pytest.mark.parametrize("year", [2027, 2028])  # a common year and a leap year
def test_the_tertials_split_the_year_into_three_runs_of_four_months(year):
    assert [rules.tertial_start(year, t) for t in (1, 2, 3)] == [
        date(year, 1, 1),
        date(year, 5, 1),
        date(year, 9, 1),
    ]
    months = [m for t in (1, 2, 3) for m in rules.tertial_months(t)]
    assert months == list(range(1, 13))  # every month once, February whatever its length
    assert [rules.remaining_months(t) for t in (1, 2, 3)] == [12, 8, 4]


def test_a_tertial_pays_growth_pro_rata_from_the_buffer_and_never_cuts():
    before = rules.allocate(2_000_000_000, STAVANGER_2022, stavanger_unit(U1) + [person(U2, "25")] * 2)
    states = {org: UnitState(org, n.need_ore, before.amounts[org]) for org, n in before.needs.items()}
    # U1: one base user becomes level 1. U2: one of its two users leaves.
    later = [*stavanger_unit(U1)[1:], person(U1, "25"), person(U2, "25")]
    new = rules.needs(STAVANGER_2022, later)
    result = rules.recompute(2, states, new, before.buffer_ore)
    g1, g2 = result.growth[U1], result.growth[U2]
    # 8 months of the step from base to level 1: (28 764 000 - 3 413 328) * 8 / 12
    assert g1.levels_growth_ore == 16_900_448 == g1.paid_ore
    assert (g2.levels_growth_ore, g2.need_after_ore) == (0, 2 * L1)  # not cut, funded need kept
    assert result.buffer_after_ore == before.buffer_ore - 16_900_448
    assert result.deficit_ore == 0


def test_focus_users_are_paid_for_the_tertial_just_ended_outside_pauses():
    focus, other = uuid.uuid4(), uuid.uuid4()
    actual = {
        (focus, U1): {1: Decimal(95), 2: Decimal(120), 3: Decimal(80), 4: Decimal(130)},
        (other, U1): {1: Decimal(50)},
    }
    extra = rules.focus_extra_by_unit(
        STAVANGER_2022, {U1: "municipal"}, actual, {focus: {4}}, rules.tertial_months(1)
    )
    assert extra == {U1: 30 * 79_900}


def test_growth_beyond_the_buffer_leaves_a_deficit_that_lowering_the_base_amount_covers():
    states = {U1: UnitState(U1, 10 * BASE, 10 * BASE), U2: UnitState(U2, 90 * BASE, 90 * BASE)}
    new = rules.needs(
        STAVANGER_2022,
        [person(U1, "10")] * 8 + [person(U1, "30")] * 2 + [person(U2, "10")] * 90,
    )
    result = rules.recompute(3, states, new, buffer_ore=1_000_000)
    growth = ((L1 - BASE) * 2 * 4 + 6) // 12  # 4 months left, rounded half up
    assert result.growth[U1].growth_ore == growth
    assert result.paid_ore == 1_000_000
    assert result.deficit_ore == growth - 1_000_000
    proposal = rules.propose(
        {U1: result.growth[U1].unfunded_ore},
        {U1: 8, U2: 90},
        {U1: 10 * BASE + 1_000_000, U2: 90 * BASE},
        BASE,
        tertial=3,
    )
    assert proposal.cut_per_base_person_ore == -(-result.deficit_ore // 98)
    assert proposal.base_amount_after_ore == BASE - proposal.cut_per_base_person_ore
    moves = {m.provider_org: m for m in proposal.units}
    assert moves[U2].change_ore == -90 * proposal.cut_per_base_person_ore  # across units
    assert sum(m.change_ore for m in proposal.units) + proposal.to_buffer_ore == 0
    assert 0 <= proposal.to_buffer_ore < 98


def test_a_deficit_too_large_for_the_base_users_is_refused():
    with pytest.raises(CannotRedistribute):
        rules.propose({U1: 10**9}, {U2: 1}, {U2: BASE}, BASE, tertial=3)
    with pytest.raises(CannotRedistribute):
        rules.propose({}, {U2: 1}, {U2: BASE}, BASE, tertial=2)


# --- properties ---------------------------------------------------------------------------

ORGS = [f"9{i:08d}" for i in range(6)]
hours_st = st.decimals(min_value=0, max_value=300, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def levels_models(draw):
    edges = sorted(set(draw(st.lists(st.integers(1, 150), min_size=0, max_size=5))))
    lows = [0, *edges]
    bands = [
        Band(
            level="base" if i == 0 else str(i),
            from_hours=Decimal(low),
            to_hours=Decimal(lows[i + 1]) if i + 1 < len(lows) else None,
            funded_hours=draw(st.decimals(min_value=0, max_value=200, places=2)),
        )
        for i, low in enumerate(lows)
    ]
    general = draw(st.decimals(min_value=0, max_value="0.5", places=3))
    buffer = draw(st.decimals(min_value=0, max_value="0.2", places=3))
    return LevelsModel(
        general_share=general,
        buffer_share=buffer,
        rate_ore_per_hour=draw(st.integers(0, 200_000)),
        bands=bands,
        focus_threshold_hours=max(Decimal(lows[-1]), draw(st.decimals(min_value=0, max_value=300, places=0))),
        skill_mix_weights=draw(
            st.dictionaries(
                st.sampled_from(["1", "15", "32"]), st.decimals(min_value=0, max_value=3, places=2)
            )
        ),
    )


@st.composite
def rule_sets(draw):
    levels = draw(levels_models())
    private = draw(
        st.sampled_from(
            [
                levels,
                HourlyModel(prices_ore_per_hour={"1": draw(st.integers(0, 100_000))}),
                FrameModel(frames_ore={ORGS[4]: draw(st.integers(0, 10**9))}),
            ]
        )
    )
    return RuleSetBody(
        name="p",
        valid_from=date(2022, 1, 1),
        parts=[Part(applies_to="municipal", financing=levels), Part(applies_to="private", financing=private)],
    )


@st.composite
def populations(draw):
    n = draw(st.integers(0, 60))
    out = []
    for _ in range(n):
        i = draw(st.integers(0, len(ORGS) - 1))
        codes = draw(st.dictionaries(st.sampled_from(["1", "15", "32"]), hours_st, min_size=1, max_size=3))
        out.append(PersonAtUnit(uuid.uuid4(), ORGS[i], "municipal" if i < 3 else "private", "d", codes))
    return out


frames = st.integers(1, 10**12)
prices = st.just({ORGS[3]: {"15": 55_000, "32": 12_345}})


@settings(max_examples=200, deadline=None)
@given(frames, rule_sets(), populations(), prices)
def test_the_allocation_adds_up_to_the_frame_to_the_ore(frame, body, population, price):
    result = rules.allocate(frame, body, population, price)
    assert result.total() == frame
    assert all(a >= 0 for a in result.amounts.values())
    assert result.buffer_ore >= 0
    assert result.general_ore >= 0
    need = sum(u.need_ore for u in result.needs.values())
    assert result.shortfall_ore == max(
        0, need - (frame - result.general_ore - rules.share_of(frame, rules.shares(body)[1]))
    )
    assert all(result.amounts[o] <= result.needs[o].need_ore for o in result.amounts)
    assert sum(u.persons for u in result.needs.values()) == len(population)


@settings(max_examples=200, deadline=None)
@given(
    frames,
    rule_sets(),
    populations(),
    populations(),
    st.integers(2, 3),
    st.dictionaries(st.sampled_from(ORGS), st.integers(0, 10**8)),
)
def test_a_tertial_and_an_approved_redistribution_keep_the_sum_and_never_cut(
    frame, body, first, second, tertial, focus
):
    made = rules.allocate(frame, body, first)
    states = {o: UnitState(o, n.need_ore, made.amounts[o]) for o, n in made.needs.items()}
    new = rules.needs(body, first + second)
    result = rules.recompute(tertial, states, new, made.buffer_ore, focus)
    amounts = {o: made.amounts.get(o, 0) + result.growth[o].paid_ore for o in result.growth}
    assert all(amounts[o] >= made.amounts.get(o, 0) for o in amounts)  # nobody is cut
    assert sum(amounts.values()) + made.general_ore + result.buffer_after_ore == frame
    assert result.buffer_after_ore >= 0
    assert result.deficit_ore == sum(g.unfunded_ore for g in result.growth.values())
    assert result.deficit_ore == 0 or result.buffer_after_ore == 0
    levels = body.levels()
    assert levels is not None
    base = levels.bands[0].level
    base_persons = {o: n.persons_per_level.get(base, 0) for o, n in new.items()}
    unfunded = {o: g.unfunded_ore for o, g in result.growth.items() if g.unfunded_ore}
    try:
        proposal = rules.propose(
            unfunded, base_persons, amounts, rules.annual_ore(levels, levels.bands[0]), tertial
        )
    except CannotRedistribute:
        return
    after = dict(amounts)
    for move in proposal.units:
        after[move.provider_org] = after.get(move.provider_org, 0) + move.change_ore
    buffer = result.buffer_after_ore + proposal.to_buffer_ore
    assert sum(after.values()) + made.general_ore + buffer == frame
    assert all(a >= 0 for a in after.values())
    assert proposal.moved_ore - proposal.deficit_ore == proposal.to_buffer_ore < max(1, proposal.base_persons)
    # The smallest whole-øre cut: one øre less would not cover the deficit.
    assert (proposal.cut_per_base_person_ore - 1) * proposal.base_persons < proposal.deficit_ore
