"""Tests for hjemflyt.shared.identity, driven by the constructed corpus in identity_corpus."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from identity_corpus import (
    BIRTH_DATES,
    CLASS_ATTRIBUTES,
    CLASSIC_ONLY_INVALID,
    FUTURE_DATE_CASES,
    INVALID_NUMBERS,
    INVALID_ORGANISATION_NUMBERS,
    NAV_BIRTH_DATES,
    VALID_NAV_NUMBERS,
    VALID_NUMBERS,
    VALID_ORGANISATION_NUMBERS,
    make_org_number,
    with_check_digits,
)

from hjemflyt.shared.identity import (
    IdentityKind,
    IdentityNumber,
    InvalidIdentityNumber,
    InvalidOrganisationNumber,
    Month40Meaning,
    SyntheticSource,
    fhir_system,
    is_valid_identity_number,
    is_valid_organisation_number,
    parse_identity_number,
    parse_organisation_number,
    synthetic_identity_number,
    synthetic_identity_numbers,
)

NAV = Month40Meaning.nav_synthetic


def _ids(cases: Sequence[tuple[str, object]]) -> list[str]:
    # Test ids show the class or reason and the position, never a number.
    return [f"{i}-{label}" for i, (_, label) in enumerate(cases)]


def _raises(value: str, **kwargs: object) -> InvalidIdentityNumber:
    with pytest.raises(InvalidIdentityNumber) as info:
        parse_identity_number(value, **kwargs)  # type: ignore[arg-type]
    return info.value


def _individuals(year: int) -> list[int]:
    """Skatteetaten's classic individual-number series for a birth year (independent copy)."""
    if year < 1900:
        return list(range(500, 750))
    if year < 1940:
        return list(range(500))
    if year < 2000:
        return [*range(500), *range(900, 1000)]
    return list(range(500, 1000))


# --- corpus: valid numbers ---------------------------------------------------------------


@pytest.mark.parametrize(("number", "cls"), VALID_NUMBERS, ids=_ids(VALID_NUMBERS))
def test_valid_number_has_expected_class(number: str, cls: str) -> None:
    kind, synthetic, rules_2032 = CLASS_ATTRIBUTES[cls]
    parsed = parse_identity_number(number)
    assert (parsed.value, parsed.kind, parsed.synthetic, parsed.rules_2032) == (
        number,
        kind,
        synthetic,
        rules_2032,
    )
    assert is_valid_identity_number(number)


@pytest.mark.parametrize(("number", "born"), BIRTH_DATES, ids=_ids(BIRTH_DATES))
def test_valid_number_has_expected_birth_date(number: str, born: date | None) -> None:
    assert parse_identity_number(number).birth_date == born


@pytest.mark.parametrize(("number", "cls"), VALID_NAV_NUMBERS, ids=_ids(VALID_NAV_NUMBERS))
def test_nav_synthetic_number_under_nav_configuration(number: str, cls: str) -> None:
    kind, synthetic, rules_2032 = CLASS_ATTRIBUTES[cls]
    parsed = parse_identity_number(number, month40=NAV)
    assert (parsed.kind, parsed.synthetic, parsed.rules_2032) == (kind, synthetic, rules_2032)


@pytest.mark.parametrize(("number", "born"), NAV_BIRTH_DATES, ids=_ids(NAV_BIRTH_DATES))
def test_nav_synthetic_birth_date(number: str, born: date | None) -> None:
    assert parse_identity_number(number, month40=NAV).birth_date == born


def test_month_plus_40_is_an_h_number_by_default() -> None:
    number, _ = VALID_NAV_NUMBERS[0]
    default = parse_identity_number(number)
    nav = parse_identity_number(number, month40=NAV)
    assert (default.kind, default.synthetic) == (IdentityKind.h_number, SyntheticSource.none)
    assert (nav.kind, nav.synthetic) == (IdentityKind.birth_number, SyntheticSource.nav)
    assert default.birth_date == nav.birth_date


def test_d_number_with_month_plus_40_needs_the_nav_configuration() -> None:
    number = next(n for n, cls in VALID_NAV_NUMBERS if cls == "nav_d_number")
    assert _raises(number).reason == "date"
    assert parse_identity_number(number, month40=NAV).kind is IdentityKind.d_number


def test_nav_2032_number_is_an_invalid_h_number_by_default() -> None:
    # The 2032 rule covers birth and D-numbers only, so read as an H-number it fails.
    number = next(n for n, cls in VALID_NAV_NUMBERS if cls == "nav_birth_number_2032")
    assert _raises(number).reason == "checksum"
    assert _raises(number, month40=NAV, accept_2032_rules=False).reason == "checksum"


@pytest.mark.parametrize(("number", "cls"), VALID_NUMBERS[:4], ids=_ids(VALID_NUMBERS[:4]))
def test_surrounding_whitespace_is_stripped(number: str, cls: str) -> None:
    assert parse_identity_number(f" \t{number}\n").value == number


# --- corpus: invalid numbers -------------------------------------------------------------


@pytest.mark.parametrize(("number", "reason"), INVALID_NUMBERS, ids=_ids(INVALID_NUMBERS))
def test_invalid_number_has_expected_reason(number: str, reason: str) -> None:
    assert _raises(number).reason == reason
    assert not is_valid_identity_number(number)
    assert not is_valid_identity_number(number, accept_2032_rules=False)


@pytest.mark.parametrize(("number", "reason"), CLASSIC_ONLY_INVALID, ids=_ids(CLASSIC_ONLY_INVALID))
def test_2032_only_number_is_invalid_under_classic_rules(number: str, reason: str) -> None:
    parsed = parse_identity_number(number)
    assert parsed.rules_2032
    assert parsed.birth_date is None  # from 2032 the individual number gives no century
    assert _raises(number, accept_2032_rules=False).reason == reason


def test_corpus_covers_every_class_and_reason() -> None:
    classes = {cls for _, cls in VALID_NUMBERS + VALID_NAV_NUMBERS}
    assert classes == set(CLASS_ATTRIBUTES)
    reasons = {r for _, r in INVALID_NUMBERS + CLASSIC_ONLY_INVALID}
    assert reasons == {"length", "not_digits", "checksum", "date", "century"}


@pytest.mark.parametrize(("number", "cls"), VALID_NUMBERS, ids=_ids(VALID_NUMBERS))
def test_synthetic_numbers_can_be_refused(number: str, cls: str) -> None:
    _, synthetic, _ = CLASS_ATTRIBUTES[cls]
    if synthetic == "none":
        assert is_valid_identity_number(number, allow_synthetic=False)
    else:
        assert _raises(number, allow_synthetic=False).reason == "synthetic_not_allowed"


@pytest.mark.parametrize(("number", "cls"), VALID_NAV_NUMBERS, ids=_ids(VALID_NAV_NUMBERS))
def test_nav_numbers_can_be_refused(number: str, cls: str) -> None:
    assert _raises(number, allow_synthetic=False, month40=NAV).reason == "synthetic_not_allowed"


@pytest.mark.parametrize(("number", "today"), FUTURE_DATE_CASES, ids=_ids(FUTURE_DATE_CASES))
def test_future_birth_date_is_rejected_when_today_is_given(number: str, today: date) -> None:
    assert _raises(number, today=today).reason == "future_date"
    born = parse_identity_number(number).birth_date
    assert born is not None
    assert parse_identity_number(number, today=born).birth_date == born


def test_future_classic_date_after_2032_may_be_a_2032_number() -> None:
    # Born 2039 by the classic table; from 2032 the same digits may be issued to someone
    # born in 1939, so the birth date is unknown rather than in the future.
    number, _ = FUTURE_DATE_CASES[0]
    parsed = parse_identity_number(number, today=date(2033, 1, 1))
    assert (parsed.rules_2032, parsed.birth_date) == (True, None)
    assert _raises(number, today=date(2033, 1, 1), accept_2032_rules=False).reason == "future_date"
    assert _raises(number, today=date(2031, 12, 31)).reason == "future_date"


def test_fh_numbers_have_no_birth_date_or_date_checks() -> None:
    for number, cls in VALID_NUMBERS:
        if cls == "fh_number":
            parsed = parse_identity_number(number, today=date(1900, 1, 1), allow_synthetic=False)
            assert parsed.birth_date is None
            assert not parsed.rules_2032


# --- the 2032 rule -----------------------------------------------------------------------


@given(birth=st.dates(date(1854, 1, 1), date(2039, 12, 31)), data=st.data())
def test_2032_rule_allows_up_to_four_k1_and_one_k2_per_k1(birth: date, data: st.DataObject) -> None:
    individual = data.draw(st.sampled_from(_individuals(birth.year)))
    body = f"{birth.day:02d}{birth.month + 80:02d}{birth.year % 100:02d}{individual:03d}"
    completions = [f"{body}{k:02d}" for k in range(100)]
    relaxed = [n for n in completions if is_valid_identity_number(n)]
    classic = [n for n in completions if is_valid_identity_number(n, accept_2032_rules=False)]
    k1s = [n[9] for n in relaxed]
    assert len(k1s) == len(set(k1s)) <= 4
    assert len(classic) <= 1
    assert set(classic) <= set(relaxed)
    assert all(parse_identity_number(n).rules_2032 for n in set(relaxed) - set(classic))


def test_some_body_has_four_2032_k1_values() -> None:
    # Across bodies the four remainders land on four digits unless one of them is 10.
    counts = set()
    for individual in range(20):
        body = f"1490{38:02d}{individual:03d}"
        counts.add(sum(is_valid_identity_number(f"{body}{k:02d}") for k in range(100)))
    assert 4 in counts


# --- generators and properties -----------------------------------------------------------

_KIND_AND_SOURCE = st.sampled_from(
    [
        (IdentityKind.birth_number, SyntheticSource.tenor),
        (IdentityKind.d_number, SyntheticSource.tenor),
        (IdentityKind.birth_number, SyntheticSource.nav),
        (IdentityKind.d_number, SyntheticSource.nav),
        (IdentityKind.birth_number, SyntheticSource.none),
        (IdentityKind.d_number, SyntheticSource.none),
        (IdentityKind.h_number, SyntheticSource.none),
    ]
)


@st.composite
def generated_numbers(draw: st.DrawFn) -> tuple[str, date, IdentityKind, SyntheticSource]:
    birth = draw(st.dates(date(1854, 1, 1), date(2039, 12, 31)))
    individual = draw(st.sampled_from(_individuals(birth.year)))
    kind, source = draw(_KIND_AND_SOURCE)
    try:
        number = synthetic_identity_number(birth, individual, kind=kind, synthetic=source)
    except ValueError:
        assume(False)  # a check digit of 10: never issued
        raise
    return number, birth, kind, source


def _month40(source: SyntheticSource) -> Month40Meaning:
    return NAV if source is SyntheticSource.nav else Month40Meaning.h_number


@given(generated_numbers())
def test_generated_number_validates_and_round_trips(
    case: tuple[str, date, IdentityKind, SyntheticSource],
) -> None:
    number, birth, kind, source = case
    for accept_2032_rules in (False, True):
        parsed = parse_identity_number(number, month40=_month40(source), accept_2032_rules=accept_2032_rules)
        assert (parsed.birth_date, parsed.kind, parsed.synthetic) == (birth, kind, source)
        assert not parsed.rules_2032


@given(generated_numbers(), st.integers(0, 10), st.integers(1, 9))
def test_any_single_digit_change_is_detected(
    case: tuple[str, date, IdentityKind, SyntheticSource], position: int, delta: int
) -> None:
    number = case[0]
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    # k2 keeps its classic rule in 2032 and weighs every digit, so the 2032 rule does not
    # weaken single-digit detection; check every configuration.
    for accept_2032_rules in (False, True):
        for month40 in Month40Meaning:
            assert not is_valid_identity_number(changed, accept_2032_rules=accept_2032_rules, month40=month40)


@given(
    st.dates(date(1854, 1, 1), date(2039, 12, 31)),
    st.data(),
    st.sampled_from([IdentityKind.birth_number, IdentityKind.d_number]),
    st.integers(1, 3),
)
def test_generated_2032_number_is_valid_only_under_2032_rules(
    birth: date, data: st.DataObject, kind: IdentityKind, remainder: int
) -> None:
    individual = data.draw(st.sampled_from(_individuals(birth.year)))
    try:
        number = synthetic_identity_number(birth, individual, kind=kind, k1_remainder=remainder)
    except ValueError:
        assume(False)
        raise
    parsed = parse_identity_number(number)
    assert (parsed.kind, parsed.synthetic, parsed.rules_2032, parsed.birth_date) == (
        kind,
        SyntheticSource.tenor,
        True,
        None,
    )
    assert _raises(number, accept_2032_rules=False).reason == "checksum"


def test_synthetic_identity_numbers_are_distinct_valid_and_deterministic() -> None:
    numbers = list(synthetic_identity_numbers(3000, seed=7))
    assert len(set(numbers)) == 3000
    assert numbers == list(synthetic_identity_numbers(3000, seed=7))
    assert numbers != list(synthetic_identity_numbers(3000, seed=8))
    parsed = [parse_identity_number(n, allow_synthetic=True, accept_2032_rules=False) for n in numbers]
    assert {p.synthetic for p in parsed} == {SyntheticSource.tenor}
    assert all(
        p.birth_date is not None and date(1925, 1, 1) <= p.birth_date <= date(2010, 12, 31) for p in parsed
    )


def test_synthetic_identity_numbers_mixes_kinds_and_respects_the_range() -> None:
    numbers = list(
        synthetic_identity_numbers(
            500,
            seed=1,
            kinds=[IdentityKind.birth_number, IdentityKind.d_number],
            synthetic=SyntheticSource.nav,
            born_from=date(1930, 1, 1),
            born_to=date(1945, 12, 31),
        )
    )
    parsed = [parse_identity_number(n, month40=NAV) for n in numbers]
    assert {p.kind for p in parsed} == {IdentityKind.birth_number, IdentityKind.d_number}
    assert all(p.birth_date is not None and 1930 <= p.birth_date.year <= 1945 for p in parsed)


def test_synthetic_identity_numbers_is_lazy() -> None:
    assert len(list(islice(synthetic_identity_numbers(10**9), 5))) == 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kinds": [IdentityKind.fh_number]},
        {"kinds": []},
        {"kinds": [IdentityKind.h_number], "synthetic": SyntheticSource.tenor},
        {"born_from": date(1853, 12, 31)},
        {"born_to": date(2040, 1, 1)},
        {"born_from": date(2000, 1, 2), "born_to": date(2000, 1, 1)},
        {"born_from": date(2000, 1, 1), "born_to": date(2000, 1, 1)},  # too few numbers exist
    ],
)
def test_synthetic_identity_numbers_rejects_impossible_requests(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"."):
        list(synthetic_identity_numbers(1000, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("birth", "individual", "kwargs"),
    [
        (date(1950, 1, 1), 600, {}),  # 500-899 is not a 1950 series
        (date(1950, 1, 1), 1000, {}),
        (date(1950, 1, 1), -1, {}),
        (date(1853, 1, 1), 600, {}),
        (date(2040, 1, 1), 600, {}),
        (date(1950, 1, 1), 100, {"kind": IdentityKind.fh_number}),
        (date(1950, 1, 1), 100, {"kind": IdentityKind.h_number}),  # synthetic defaults to tenor
        (date(1950, 1, 1), 100, {"k1_remainder": 4}),
        (date(1950, 1, 1), 100, {"k1_remainder": 1, "kind": IdentityKind.h_number, "synthetic": "none"}),
    ],
)
def test_synthetic_identity_number_rejects_bad_arguments(
    birth: date, individual: int, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValueError, match=r"."):
        synthetic_identity_number(birth, individual, **kwargs)  # type: ignore[arg-type]


def test_synthetic_identity_number_refuses_check_digit_10() -> None:
    birth = date(1944, 9, 2)
    numbers, refusals = [], []
    for individual in range(100):
        try:
            numbers.append(synthetic_identity_number(birth, individual))
        except ValueError as exc:
            refusals.append(str(exc))
    assert refusals
    assert all("10" in message for message in refusals)
    assert all(is_valid_identity_number(n) for n in numbers)


# --- privacy ------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "cls"), VALID_NUMBERS, ids=_ids(VALID_NUMBERS))
def test_parsed_number_is_never_rendered(number: str, cls: str) -> None:
    parsed = parse_identity_number(number)
    for text in (repr(parsed), str(parsed), f"{parsed}", f"{parsed!r}", str([parsed]), str({"p": parsed})):
        assert number not in text
        assert number[:6] not in text
        assert number[6:] not in text
    assert parsed.masked == "*" * 9 + number[-2:]


# Inputs shorter than 4 characters can coincide with the length quoted in the message.
_INVALID_LONG = [(n, r) for n, r in INVALID_NUMBERS if len(n.strip()) >= 4]


@pytest.mark.parametrize(("number", "reason"), _INVALID_LONG, ids=_ids(_INVALID_LONG))
def test_exception_never_contains_the_number(number: str, reason: str) -> None:
    value = number.strip()
    exc = _raises(number)
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert value not in text


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_any_eleven_digits_parse_or_fail_without_echoing(value: str) -> None:
    if is_valid_identity_number(value):
        assert value not in repr(parse_identity_number(value))
    else:
        exc = _raises(value)
        assert value not in str(exc)
        assert value not in repr(exc)


@given(st.text(max_size=20))
def test_arbitrary_text_only_raises_invalid_identity_number(value: str) -> None:
    assert is_valid_identity_number(value) in (True, False)
    assert is_valid_organisation_number(value) in (True, False)


def test_identity_number_is_immutable() -> None:
    parsed = parse_identity_number(VALID_NUMBERS[0][0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.value = "0"  # type: ignore[misc]
    assert isinstance(parsed, IdentityNumber)


# --- FHIR -----------------------------------------------------------------------------------


def test_fhir_systems() -> None:
    assert fhir_system(IdentityKind.birth_number) == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert fhir_system(IdentityKind.d_number) == "urn:oid:2.16.578.1.12.4.1.4.2"
    assert fhir_system(IdentityKind.fh_number) == "urn:oid:2.16.578.1.12.4.1.4.3"
    assert fhir_system(IdentityKind.h_number) is None  # locally issued, no national OID


# --- organisation numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "normalised"), VALID_ORGANISATION_NUMBERS, ids=_ids(VALID_ORGANISATION_NUMBERS)
)
def test_valid_organisation_number(value: str, normalised: str) -> None:
    assert parse_organisation_number(value) == normalised
    assert is_valid_organisation_number(value)


@pytest.mark.parametrize(
    ("value", "reason"), INVALID_ORGANISATION_NUMBERS, ids=_ids(INVALID_ORGANISATION_NUMBERS)
)
def test_invalid_organisation_number(value: str, reason: str) -> None:
    with pytest.raises(InvalidOrganisationNumber) as info:
        parse_organisation_number(value)
    assert info.value.reason == reason
    assert not is_valid_organisation_number(value)
    if len(value.strip()) >= 4:
        assert value.strip() not in str(info.value)


@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.integers(0, 8), st.integers(1, 9))
def test_organisation_number_properties(body: str, position: int, delta: int) -> None:
    try:
        number = make_org_number(body)
    except ValueError:
        assert not any(is_valid_organisation_number(body + str(d)) for d in range(10))
        return
    assert parse_organisation_number(number) == number
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not is_valid_organisation_number(changed)


# --- corpus sanity --------------------------------------------------------------------------


def test_corpus_generator_agrees_with_module_generator() -> None:
    # The corpus computes check digits on its own; both must agree on a classic number.
    birth = date(1938, 3, 14)
    for individual in range(40):
        body = f"{birth.day:02d}{birth.month + 80:02d}{birth.year % 100:02d}{individual:03d}"
        try:
            expected: str | None = with_check_digits(body)
        except ValueError:
            expected = None
        try:
            actual: str | None = synthetic_identity_number(birth, individual)
        except ValueError:
            actual = None
        assert actual == expected


def test_today_boundary() -> None:
    number = next(n for n, cls in VALID_NUMBERS if cls == "tenor_birth_number")
    born = parse_identity_number(number).birth_date
    assert born is not None
    assert is_valid_identity_number(number, today=born)
    assert not is_valid_identity_number(number, today=born - timedelta(days=1))
