"""The IPLOS function code list: its shape, score validation and the average function level."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hjemflyt.shared.contracts.iplos import (
    CURRENT_VERSION,
    SCORE_NAMES_NB,
    SCORE_VALUES,
    VERSIONS,
    CodeListVersion,
    FunctionGroup,
    FunctionVariable,
    Score,
    UnknownVersion,
    average_function_level,
    code_list,
    is_score,
    unscored,
    validate_scores,
)

DOMAIN_VARIABLES = {
    "social_participation",
    "decisions_in_daily_life",
    "controlling_behaviour",
    "managing_own_health",
    "housework",
    "getting_goods_and_services",
    "cooking",
    "personal_hygiene",
    "dressing",
    "eating",
    "toilet",
    "moving_indoors",
    "moving_outdoors",
    "memory",
    "communication",
    "vision",
    "hearing",
}


def test_scores_are_1_to_5_and_9_with_norwegian_names():
    assert sorted(SCORE_VALUES) == [1, 2, 3, 4, 5, 9]
    assert set(SCORE_NAMES_NB) == set(Score)
    assert Score(9).name_nb == "Ikke relevant"
    assert [s for s in Score if not s.counts_for_level] == [Score.not_relevant]


def test_the_current_version_has_every_variable_of_the_domain_brief():
    current = code_list()
    assert current.version == CURRENT_VERSION == "2018"
    assert code_list("2018") is VERSIONS["2018"] is current
    assert set(current.keys) == DOMAIN_VARIABLES
    assert len(current.keys) == len(set(current.keys))


@pytest.mark.parametrize("version", sorted(VERSIONS))
def test_every_variable_has_a_stable_key_a_norwegian_name_and_a_group(version):
    code = VERSIONS[version]
    assert code.version == version
    for variable in code.variables:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", variable.key), variable
        assert variable.name_nb.strip()
        assert variable.name_en.strip()
        assert isinstance(variable.group, FunctionGroup)
        assert variable.group.name_nb
        # Official register codes are not in the schema we have: none is guessed.
        assert variable.register_code is None
        assert code.variable(variable.key) is variable
    assert code.variable("nope") is None
    assert set(FunctionGroup) == {v.group for v in code.variables}


def test_unknown_version_is_an_error():
    with pytest.raises(UnknownVersion):
        code_list("1999")


def test_is_score_takes_only_the_six_ints():
    for value in (1, 2, 3, 4, 5, 9):
        assert is_score(value)
    for value in (0, 6, 7, 8, 10, -1, "3", 3.0, True, False, None, [3]):
        assert not is_score(value), value


def test_validate_scores_names_every_problem_by_variable():
    current = code_list()
    assert validate_scores({"eating": 1, "vision": 9, "memory": 5}, current) == []
    assert validate_scores({}, current) == []
    problems = validate_scores(
        {"eating": 6, "shoe_size": 3, "vision": 0, "memory": "x", "hearing": True, "toilet": 4}, current
    )
    assert [(p.rule, p.variable) for p in problems] == [
        ("invalid-iplos-score", "eating"),
        ("unknown-iplos-variable", "shoe_size"),
        ("invalid-iplos-score", "vision"),
        ("invalid-iplos-score", "memory"),
        ("invalid-iplos-score", "hearing"),
    ]
    assert all(p.message for p in problems)


def test_scores_are_validated_against_their_own_version():
    old = CodeListVersion(
        "test-old",
        (
            FunctionVariable("eating", "Spise", "Eating", FunctionGroup.personal_care),
            FunctionVariable("retired", "Utgått", "Retired", FunctionGroup.social),
        ),
    )
    assert validate_scores({"retired": 3}, old) == []
    assert [p.rule for p in validate_scores({"retired": 3}, code_list())] == ["unknown-iplos-variable"]
    assert [p.rule for p in validate_scores({"memory": 3}, old)] == ["unknown-iplos-variable"]
    assert unscored({"eating": 2}, old) == ["retired"]


def test_unscored_lists_the_rest_in_code_list_order():
    current = code_list()
    assert unscored({}, current) == list(current.keys)
    assert unscored(dict.fromkeys(current.keys, 9), current) == []
    assert unscored({"eating": 3, "unknown": 1}, current) == [k for k in current.keys if k != "eating"]


def test_average_function_level_leaves_out_not_relevant():
    assert average_function_level({}) is None
    assert average_function_level({"vision": 9, "hearing": 9}) is None
    assert average_function_level({"eating": 3}) == Decimal("3.00")
    assert average_function_level({"eating": 1, "toilet": 2, "vision": 9}) == Decimal("1.50")
    assert average_function_level({"eating": 1, "toilet": 2, "memory": 2}) == Decimal("1.67")
    assert average_function_level({"eating": 5, "toilet": 4, "memory": 4, "hearing": 9}) == Decimal("4.33")


scores = st.dictionaries(st.sampled_from(code_list().keys), st.sampled_from(sorted(SCORE_VALUES)))


@given(scores)
def test_average_is_between_1_and_5_and_ignores_9(values):
    level = average_function_level(values)
    counted = [s for s in values.values() if s != 9]
    if not counted:
        assert level is None
    else:
        assert level is not None
        assert Decimal(1) <= level <= Decimal(5)
        assert min(counted) <= level <= max(counted)
        assert level == average_function_level({k: v for k, v in values.items() if v != 9})
    assert validate_scores(values, code_list()) == []


def test_the_register_codes_setting_takes_a_json_object_or_a_file_and_refuses_what_is_wrong(tmp_path):
    from hjemflyt.shared.platform.settings import Settings, parse_iplos_function_codes

    assert parse_iplos_function_codes("") is None
    assert Settings(iplos_function_codes="").iplos_register_codes() is None
    keys = code_list().keys
    inline = json.dumps({keys[0]: 12, keys[1]: 13})
    assert parse_iplos_function_codes(inline) == {keys[0]: 12, keys[1]: 13}
    path = tmp_path / "codes.json"
    path.write_text(inline, encoding="utf-8")
    assert Settings(iplos_function_codes=str(path)).iplos_register_codes() == {keys[0]: 12, keys[1]: 13}
    for bad, says in (
        ('{"no_such_variable": 1}', "not an IPLOS function variable"),
        (json.dumps({keys[0]: "12"}), "whole number"),
        (json.dumps({keys[0]: 40000}), "whole number"),
        (json.dumps({keys[0]: True}), "whole number"),
        (json.dumps({keys[0]: 5, keys[1]: 5}), "more than one variable"),
        ("[1, 2]", "JSON object"),
        ("{not json", "not JSON"),
        (str(tmp_path / "missing.json"), "cannot read"),
    ):
        with pytest.raises(ValueError, match=says):
            parse_iplos_function_codes(bad)
    with pytest.raises(ValueError, match="not an IPLOS function variable"):
        Settings(iplos_function_codes='{"no_such_variable": 1}')
