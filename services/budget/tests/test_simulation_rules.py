"""Simulation, cliffs, KOSTRA figures and picture formats without IO."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hjemflyt.budget.financing.defaults import STAVANGER_2022, STAVANGER_2022_LEVELS
from hjemflyt.budget.financing.rules import Band, FrameModel, HourlyModel, LevelsModel, Part, RuleSetBody
from hjemflyt.budget.hours.rules import PersonAtUnit
from hjemflyt.budget.kostra import rules as kostra
from hjemflyt.budget.pictures.rules import negotiate
from hjemflyt.budget.simulations import rules
from hjemflyt.shared.identity import age_band

UNIT_A, UNIT_B = "812345672", "900000006"
RATE_YEAR = 79_900 * 12  # one funded hour a month for a year, øre


def person(
    hours: str | dict[str, str], org: str = UNIT_A, kind: str = "municipal", n: int = 0
) -> PersonAtUnit:
    by_code = {"15": hours} if isinstance(hours, str) else hours
    return PersonAtUnit(
        uuid.UUID(int=n), org, kind, "frogner", {code: Decimal(h) for code, h in by_code.items()}
    )


def band(level: str, low: str, high: str | None, funded: str) -> Band:
    return Band(
        level=level,
        from_hours=Decimal(low),
        to_hours=None if high is None else Decimal(high),
        funded_hours=Decimal(funded),
    )


def with_levels(model: LevelsModel, name: str = "alternative") -> RuleSetBody:
    return RuleSetBody(
        name=name,
        valid_from=date(2022, 1, 1),
        parts=[Part(applies_to="municipal", financing=model), Part(applies_to="private", financing=model)],
    )


SPLIT = with_levels(
    STAVANGER_2022_LEVELS.model_copy(
        update={
            "bands": [
                band("base-a", "0", "10", "2"),
                band("base-b", "10", "20", "6"),
                *STAVANGER_2022_LEVELS.bands[1:],
            ]
        }
    ),
    "base band split at 10 h",
)


def test_splitting_the_base_band_at_10_hours_gives_gains_and_losses_by_hand():
    population = [person("5", n=1), person("15", n=2), person("25", n=3), person("12", UNIT_B, n=4)]
    sim = rules.simulate(STAVANGER_2022, SPLIT, population)

    base, low, high = 3_413_328, 2 * RATE_YEAR, 6 * RATE_YEAR
    assert (low, high) == (1_917_600, 5_752_800)
    diffs = {p.person.person_id.int: p.difference_ore for p in sim.persons}
    assert diffs == {1: low - base, 2: high - base, 3: 0, 4: high - base}
    assert low - base == -1_495_728
    assert high - base == 2_339_472

    # Biggest gain first (ties by person id), biggest loss first.
    assert [p.person.person_id.int for p in sim.gainers] == [2, 4]
    assert [p.person.person_id.int for p in sim.losers] == [1]
    assert (sim.unchanged, sim.gained_ore, sim.lost_ore) == (1, 2 * 2_339_472, -1_495_728)
    assert [(p.before.level, p.after.level) for p in sim.persons] == [
        ("base", "base-a"),
        ("base", "base-b"),
        ("1", "1"),
        ("base", "base-b"),
    ]
    assert sim.levels_before == {"base": 3, "1": 1, "2": 0, "3": 0, "4": 0}
    assert sim.levels_after == {"base-a": 1, "base-b": 2, "1": 1, "2": 0, "3": 0, "4": 0}

    units = {u.provider_org: (u.persons, u.before_ore, u.after_ore, u.difference_ore) for u in sim.units}
    assert units == {
        UNIT_A: (3, 2 * base + 28_764_000, low + high + 28_764_000, low + high - 2 * base),
        UNIT_B: (1, base, high, high - base),
    }
    assert sim.after_ore - sim.before_ore == sim.gained_ore + sim.lost_ore


def test_skill_mix_weights_move_a_person_up_a_level():
    weighted = with_levels(
        STAVANGER_2022_LEVELS.model_copy(update={"skill_mix_weights": {"15": Decimal("1.5")}})
    )
    population = [person({"15": "15", "1": "2"}, n=1)]
    sim = rules.simulate(STAVANGER_2022, weighted, population)
    [p] = sim.persons
    # 15 h of home nursing weigh 22.5, practical help 1: 24.5 h -> level 1.
    assert rules.weighted_for(STAVANGER_2022, p.person) == Decimal(17)
    assert rules.weighted_for(weighted, p.person) == Decimal("24.5")
    assert (p.before.level, p.after.level) == ("base", "1")
    assert p.difference_ore == 25_350_672


def test_hourly_frame_and_unfinanced_units_are_flagged_not_failed():
    body = RuleSetBody(
        name="mixed",
        valid_from=date(2022, 1, 1),
        parts=[
            Part(applies_to="municipal", financing=FrameModel(frames_ore={UNIT_A: 1_000_000})),
            Part(
                applies_to="private",
                financing=HourlyModel(basis="decided", prices_ore_per_hour={"15": 60_000}),
            ),
        ],
    )
    population = [
        person("10", n=1),
        person("30", n=2),  # frame: 1/4 and 3/4 of 10 000 kr
        person({"15": "10", "1": "5"}, UNIT_B, "private", n=3),  # code 1 has no price
        person("10", "999999999", "unknown", n=4),  # no part for an unregistered unit
        person("10", "811111112", "municipal", n=5),  # municipal, but no frame for this unit
    ]
    out = rules.fund(body, population, {UNIT_B: {"2": 1}})
    assert [(f.model, f.annual_ore, f.note) for f in out] == [
        ("frame", 250_000, None),
        ("frame", 750_000, None),
        ("hourly", 10 * 60_000 * 12, rules.UNPRICED),
        ("none", 0, rules.NO_PART),
        ("frame", 0, rules.NO_FRAME),
    ]
    # The unit's own contract price fills in where the model names none.
    priced = rules.fund(body, population[2:3], {UNIT_B: {"1": 50_000}})
    assert (priced[0].annual_ore, priced[0].note) == ((10 * 60_000 + 5 * 50_000) * 12, None)


def test_cliff_counts_within_n_hours_of_each_edge():
    hours = ["16.99", "17", "19.5", "20", "22.99", "23", "38", "41", "150"]
    population = [person(h, n=i) for i, h in enumerate(hours)]
    [levels] = rules.cliff_exposure(STAVANGER_2022, population, Decimal(3))
    assert levels.applies_to == ["municipal", "private"]
    assert levels.persons == len(hours)
    edges = {(e.from_level, e.to_level): e for e in levels.edges}
    at_20 = edges[("base", "1")]
    assert [str(n.weighted_hours) for n in at_20.below] == ["19.5", "17"]  # nearest first
    assert [str(n.weighted_hours) for n in at_20.above] == ["20", "22.99"]
    assert at_20.step_ore == 25_350_672
    assert (at_20.at_stake_below_ore, at_20.at_stake_ore) == (2 * 25_350_672, 4 * 25_350_672)
    at_40 = edges[("1", "2")]
    assert (len(at_40.below), len(at_40.above), at_40.step_ore) == (1, 1, 20 * RATE_YEAR)
    assert [(len(e.below), len(e.above)) for e in levels.edges[2:]] == [(0, 0), (0, 0)]
    # Within 0 hours no one is near an edge; weights apply.
    assert all(
        not e.below and not e.above for e in rules.cliff_exposure(STAVANGER_2022, population, ZERO)[0].edges
    )
    weighted = with_levels(STAVANGER_2022_LEVELS.model_copy(update={"skill_mix_weights": {"15": Decimal(2)}}))
    [w] = rules.cliff_exposure(weighted, [person("9.5", n=1)], Decimal(1))
    assert [len(e.below) for e in w.edges] == [1, 0, 0, 0]
    with pytest.raises(ValueError, match="within"):
        rules.cliff_exposure(STAVANGER_2022, population, Decimal(-1))


ZERO = Decimal(0)

hours_st = st.decimals(min_value=0, max_value=250, places=2)
people_st = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(["1", "2", "15", "6"]), hours_st, min_size=1, max_size=3),
        st.sampled_from([(UNIT_A, "municipal"), (UNIT_B, "private"), ("811111112", "unknown")]),
    ),
    max_size=40,
)


def _population(drawn) -> list[PersonAtUnit]:
    return [
        PersonAtUnit(uuid.UUID(int=i), org, kind, "frogner", dict(codes))
        for i, (codes, (org, kind)) in enumerate(drawn)
    ]


@st.composite
def levels_models(draw) -> LevelsModel:
    edges = sorted(draw(st.sets(st.integers(min_value=1, max_value=100), min_size=1, max_size=5)))
    bounds = [0, *edges]
    bands = [
        band(
            f"l{i}",
            str(low),
            None if i == len(bounds) - 1 else str(bounds[i + 1]),
            str(draw(st.integers(0, 120))),
        )
        for i, low in enumerate(bounds)
    ]
    weights = draw(st.dictionaries(st.sampled_from(["1", "15"]), st.decimals(0, 3, places=1), max_size=2))
    return STAVANGER_2022_LEVELS.model_copy(
        update={
            "bands": bands,
            "skill_mix_weights": weights,
            "rate_ore_per_hour": draw(st.integers(0, 200_000)),
        }
    )


@settings(max_examples=60, deadline=None)
@given(people_st)
def test_an_alternative_equal_to_the_baseline_changes_no_one(drawn):
    sim = rules.simulate(STAVANGER_2022, STAVANGER_2022.model_copy(), _population(drawn))
    assert all(p.difference_ore == 0 for p in sim.persons)
    assert (sim.gainers, sim.losers, sim.unchanged) == ([], [], len(drawn))
    assert sim.levels_before == sim.levels_after


@settings(max_examples=60, deadline=None)
@given(people_st, levels_models())
def test_person_differences_add_up_to_the_unit_differences(drawn, model):
    population = _population(drawn)
    sim = rules.simulate(STAVANGER_2022, with_levels(model), population)
    assert sum(p.difference_ore for p in sim.persons) == sum(u.difference_ore for u in sim.units)
    assert sim.gained_ore + sim.lost_ore == sim.after_ore - sim.before_ore
    assert sum(u.persons for u in sim.units) == len(population)
    assert sum(sim.levels_after.values()) == sum(1 for p in sim.persons if p.after.level is not None)
    assert all(
        a.difference_ore >= b.difference_ore for a, b in zip(sim.gainers, sim.gainers[1:], strict=False)
    )


def test_kostra_cost_is_split_over_functions_by_hours_and_users_counted_once():
    a, b = person({"15": "5", "6": "5"}, n=1), person({"15": "25"}, UNIT_B, "private", n=2)
    c = person({"99": "5"}, UNIT_B, "private", n=3)  # an unmapped code
    population = [a, b, c]
    fundings = rules.fund(STAVANGER_2022, population)
    bands = {a.person_id: "80+", b.person_id: "67-79"}
    fig = kostra.figures(population, fundings, kostra.DEFAULT_FUNCTIONS, bands)
    base, one = 3_413_328, 28_764_000
    assert {fn: (t.cost_ore, len(t.users)) for fn, t in fig.functions.items()} == {
        "234": (base // 2, 1),
        "254": (base // 2 + one, 2),
        "unmapped": (base, 1),
    }
    assert fig.total.cost_ore == sum(f.annual_ore for f in fundings) == 2 * base + one
    assert {k: len(v) for k, v in fig.users_by_age_band.items()} == {"80+": 1, "67-79": 1, "unknown": 1}
    assert [(u.provider_org, u.total.cost_ore, len(u.total.users)) for u in fig.units] == [
        (UNIT_A, base, 1),
        (UNIT_B, one + base, 2),
    ]
    assert kostra.per_user(10, 3) == 3
    assert kostra.per_user(1, 0) is None
    assert kostra.per_thousand(12, 4000) == Decimal("3.00")


@pytest.mark.parametrize(
    ("birth", "on", "expected"),
    [
        (date(1960, 5, 2), date(2027, 5, 1), "0-66"),
        (date(1960, 5, 2), date(2027, 5, 2), "67-79"),
        (date(1947, 1, 1), date(2026, 12, 31), "67-79"),
        (date(1946, 12, 31), date(2026, 12, 31), "80+"),
        (None, date(2026, 12, 31), None),
        # Born on a leap day: a year older on 1 March in common years, on 29 February in leap ones.
        (date(1960, 2, 29), date(2027, 2, 28), "0-66"),
        (date(1960, 2, 29), date(2027, 3, 1), "67-79"),
        (date(1948, 2, 29), date(2028, 2, 28), "67-79"),
        (date(1948, 2, 29), date(2028, 2, 29), "80+"),
    ],
)
def test_age_bands_turn_on_the_birthday(birth, on, expected):
    assert age_band(birth, on) == expected


@pytest.mark.parametrize(
    ("fmt", "accept", "expected"),
    [
        ("png", "application/json", "png"),  # an explicit format wins
        (None, None, "svg"),
        (None, "image/png", "png"),
        (None, "image/png;q=0.5, image/svg+xml", "svg"),
        (None, "text/html, */*;q=0.1", "svg"),
        (None, "application/json", None),
        (None, "image/png;q=0", None),
    ],
)
def test_picture_format_from_the_query_or_the_accept_header(fmt, accept, expected):
    assert negotiate(fmt, accept) == expected


@settings(max_examples=60, deadline=None)
@given(people_st, levels_models(), st.decimals(min_value=0, max_value=40, places=1))
def test_cliff_sides_are_exactly_the_persons_within_n_hours(drawn, model, within):
    population = _population(drawn)
    body = with_levels(model)
    for part in rules.cliff_exposure(body, population, within):
        for edge in part.edges:
            hours = {p.person_id: rules.weighted_for(body, p) for p in population if p.kind != "unknown"}
            below = {
                pid
                for pid, h in hours.items()
                if h is not None and edge.edge_hours - within <= h < edge.edge_hours
            }
            above = {
                pid
                for pid, h in hours.items()
                if h is not None and edge.edge_hours <= h < edge.edge_hours + within
            }
            assert {n.person.person_id for n in edge.below} == below
            assert {n.person.person_id for n in edge.above} == above
            assert edge.at_stake_ore == (len(below) + len(above)) * edge.step_ore
            distances = [edge.edge_hours - n.weighted_hours for n in edge.below]
            assert distances == sorted(distances)


def test_contract_prices_by_service_type_become_prices_by_code():
    types = {"home-nursing": {"15"}, "practical-help": {"1"}, "cleaning": {"1"}}
    assert rules.prices_by_code({"home-nursing": 60_000, "practical-help": 40_000}, types) == {
        "15": 60_000,
        "1": 40_000,
    }
    # Two types of one code at different prices: no guess; a key that is no type is a code.
    assert rules.prices_by_code({"practical-help": 40_000, "cleaning": 30_000, "6": 5_000}, types) == {
        "6": 5_000
    }
    assert rules.prices_by_code({"practical-help": 40_000, "cleaning": 40_000}, types) == {"1": 40_000}
