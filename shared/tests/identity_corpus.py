"""Constructed Norwegian identity and organisation numbers for tests.

Every number is computed here from chosen parts, never copied from anywhere. Non-synthetic
birth, D- and H-numbers use birth years 1854-1860 (or dates that do not exist), so none can
belong to a living person; the "typical" examples are Tenor synthetic numbers (month + 80).
Check digits are computed independently of `hjemflyt.shared.identity`, so the corpus is an
oracle for it rather than a copy of it.

Exports (number, expected_class) and (number, reason) lists; `CLASS_ATTRIBUTES` says what
each class means as plain strings equal to the enum values: (kind, synthetic, rules_2032).
"""

from __future__ import annotations

from datetime import date

K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def _check(digits: str, weights: tuple[int, ...], remainder: int = 0) -> int:
    check = (remainder - sum(int(d) * w for d, w in zip(digits, weights, strict=True))) % 11
    if check == 10:
        raise ValueError("check digit would be 10")
    return check


def with_check_digits(body: str, k1_remainder: int = 0) -> str:
    """Append k1 (weighted sum incl. k1 = k1_remainder mod 11) and a classic k2 to 9 digits.

    k1_remainder 0 is the classic rule, 1-3 the 2032 rule; 4-10 construct invalid numbers.
    """
    k1 = _check(body, K1_WEIGHTS, k1_remainder)
    return f"{body}{k1}{_check(f'{body}{k1}', K2_WEIGHTS)}"


def make_raw(dd: int, mm: int, year2: int, individual: int, *, k1_remainder: int = 0) -> str:
    """A number from the encoded day and month fields (offsets already applied)."""
    return with_check_digits(f"{dd:02d}{mm:02d}{year2:02d}{individual:03d}", k1_remainder)


def make_number(
    day: int,
    month: int,
    year2: int,
    individual: int,
    kind: str = "birth_number",
    synthetic: str = "none",
    *,
    k1_remainder: int = 0,
) -> str:
    """A number from the real day and month; the kind and synthetic source add their offsets."""
    dd = day + (40 if kind == "d_number" else 0)
    mm = month + (40 if kind == "h_number" else 0) + {"none": 0, "tenor": 80, "nav": 40}[synthetic]
    return make_raw(dd, mm, year2, individual, k1_remainder=k1_remainder)


def make_first(
    day: int,
    month: int,
    year2: int,
    individuals: range,
    kind: str = "birth_number",
    synthetic: str = "none",
    *,
    k1_remainder: int = 0,
) -> str:
    """`make_number` with the first individual number in `individuals` that has check digits."""
    for individual in individuals:
        try:
            return make_number(day, month, year2, individual, kind, synthetic, k1_remainder=k1_remainder)
        except ValueError:
            continue
    raise ValueError("no individual number in the range has check digits")


def make_fh_number(body: str, *, k1_remainder: int = 0) -> str:
    """An FH-number from 9 digits starting with 8 or 9; the last digit is bumped until it works."""
    for bump in range(10):
        try:
            return with_check_digits(body[:8] + str((int(body[8]) + bump) % 10), k1_remainder)
        except ValueError:
            continue
    raise ValueError("no FH-number for that body")


def make_org_number(body: str) -> str:
    """9-digit organisation number from 8 digits; ValueError if the check digit would be 10."""
    return f"{body}{_check(body, ORG_WEIGHTS)}"


# Individual-number series by century (Skatteetaten's classic table), highest first as issued.
S1800 = range(749, 499, -1)  # 1854-1899
S1900 = range(499, -1, -1)  # 1900-1999
S1940 = range(999, 899, -1)  # 1940-1999, second series
S2000 = range(999, 499, -1)  # 2000-2039
NO_CENTURY = range(899, 749, -1)  # with year 40-99: no century under the classic table

# class -> (kind, synthetic, rules_2032)
CLASS_ATTRIBUTES: dict[str, tuple[str, str, bool]] = {
    "birth_number": ("birth_number", "none", False),
    "d_number": ("d_number", "none", False),
    "h_number": ("h_number", "none", False),
    "fh_number": ("fh_number", "none", False),
    "tenor_birth_number": ("birth_number", "tenor", False),
    "tenor_d_number": ("d_number", "tenor", False),
    "nav_birth_number": ("birth_number", "nav", False),
    "nav_d_number": ("d_number", "nav", False),
    "birth_number_2032": ("birth_number", "none", True),
    "d_number_2032": ("d_number", "none", True),
    "tenor_birth_number_2032": ("birth_number", "tenor", True),
    "tenor_d_number_2032": ("d_number", "tenor", True),
    "nav_birth_number_2032": ("birth_number", "nav", True),
}

# Valid only under the 2032 rules: k1 leaves remainder 1, 2 or 3.
_K1_REMAINDER_1 = make_first(3, 7, 55, S1800, k1_remainder=1)
_K1_REMAINDER_2 = make_first(20, 8, 57, S1800, "d_number", k1_remainder=2)
_K1_REMAINDER_3 = make_first(11, 4, 46, S1900, synthetic="tenor", k1_remainder=3)
_TENOR_D_K1_REMAINDER_1 = make_first(9, 10, 33, S1900, "d_number", "tenor", k1_remainder=1)
# Classic k1, but the classic reading fails: 1900 was no leap year, and 750-899 with year 50
# has no century. From 2032 the individual number says nothing about the century.
_FEB_29_1900 = make_first(29, 2, 0, S1900)
_NO_CENTURY = make_first(1, 6, 50, NO_CENTURY, synthetic="tenor")

# (class, number, expected birth date) valid under the default configuration.
_VALID: list[tuple[str, str, date | None]] = [
    ("birth_number", make_first(1, 1, 54, S1800), date(1854, 1, 1)),
    ("birth_number", make_first(31, 12, 99, S1800), date(1899, 12, 31)),
    ("birth_number", make_first(29, 2, 56, S1800), date(1856, 2, 29)),
    ("birth_number", make_first(15, 6, 58, S1800), date(1858, 6, 15)),
    ("d_number", make_first(1, 1, 55, S1800, "d_number"), date(1855, 1, 1)),
    ("d_number", make_first(31, 3, 57, S1800, "d_number"), date(1857, 3, 31)),
    ("d_number", make_first(29, 2, 60, S1800, "d_number"), date(1860, 2, 29)),
    ("h_number", make_first(1, 1, 55, S1800, "h_number"), date(1855, 1, 1)),
    ("h_number", make_first(31, 12, 59, S1800, "h_number"), date(1859, 12, 31)),
    ("fh_number", make_fh_number("812345670"), None),
    ("fh_number", make_fh_number("900000010"), None),
    ("fh_number", make_fh_number("987654320"), None),
    ("tenor_birth_number", make_first(14, 3, 38, S1900, synthetic="tenor"), date(1938, 3, 14)),
    ("tenor_birth_number", make_first(2, 9, 44, S1940, synthetic="tenor"), date(1944, 9, 2)),
    ("tenor_birth_number", make_first(29, 2, 48, S1900, synthetic="tenor"), date(1948, 2, 29)),
    ("tenor_birth_number", make_first(17, 5, 52, S1900, synthetic="tenor"), date(1952, 5, 17)),
    ("tenor_birth_number", make_first(29, 2, 0, S2000, synthetic="tenor"), date(2000, 2, 29)),
    ("tenor_birth_number", make_first(31, 12, 39, S2000, synthetic="tenor"), date(2039, 12, 31)),
    ("tenor_birth_number", make_first(1, 1, 54, S1800, synthetic="tenor"), date(1854, 1, 1)),
    ("tenor_d_number", make_first(5, 11, 41, S1900, "d_number", "tenor"), date(1941, 11, 5)),
    ("tenor_d_number", make_first(31, 1, 36, S1900, "d_number", "tenor"), date(1936, 1, 31)),
    ("tenor_d_number", make_first(30, 12, 5, S2000, "d_number", "tenor"), date(2005, 12, 30)),
    ("birth_number_2032", _K1_REMAINDER_1, None),
    ("d_number_2032", _K1_REMAINDER_2, None),
    ("tenor_birth_number_2032", _K1_REMAINDER_3, None),
    ("tenor_d_number_2032", _TENOR_D_K1_REMAINDER_1, None),
    ("birth_number_2032", _FEB_29_1900, None),
    ("tenor_birth_number_2032", _NO_CENTURY, None),
]

VALID_NUMBERS: list[tuple[str, str]] = [(number, cls) for cls, number, _ in _VALID]
BIRTH_DATES: list[tuple[str, date | None]] = [(number, born) for _, number, born in _VALID]

# Valid only with month40=Month40Meaning.nav_synthetic (by default they read as H-numbers,
# or as an invalid D+H combination for the D-numbers).
_VALID_NAV: list[tuple[str, str, date | None]] = [
    ("nav_birth_number", make_first(12, 10, 43, S1900, synthetic="nav"), date(1943, 10, 12)),
    ("nav_birth_number", make_first(1, 1, 10, S2000, synthetic="nav"), date(2010, 1, 1)),
    ("nav_d_number", make_first(3, 4, 39, S1900, "d_number", "nav"), date(1939, 4, 3)),
    ("nav_birth_number_2032", make_first(21, 11, 47, S1900, synthetic="nav", k1_remainder=2), None),
]
VALID_NAV_NUMBERS: list[tuple[str, str]] = [(number, cls) for cls, number, _ in _VALID_NAV]
NAV_BIRTH_DATES: list[tuple[str, date | None]] = [(number, born) for _, number, born in _VALID_NAV]

# Valid by default, invalid with accept_2032_rules=False, for this reason.
CLASSIC_ONLY_INVALID: list[tuple[str, str]] = [
    (_K1_REMAINDER_1, "checksum"),
    (_K1_REMAINDER_2, "checksum"),
    (_K1_REMAINDER_3, "checksum"),
    (_TENOR_D_K1_REMAINDER_1, "checksum"),
    (_FEB_29_1900, "date"),
    (_NO_CENTURY, "century"),
]

_PLAIN = make_first(15, 6, 58, S1800)
_TENOR = make_first(14, 3, 38, S1900, synthetic="tenor")


def _bump(number: str, position: int) -> str:
    return number[:position] + str((int(number[position]) + 1) % 10) + number[position + 1 :]


# Invalid under the default configuration, for this reason.
INVALID_NUMBERS: list[tuple[str, str]] = [
    # checksum
    (_bump(_PLAIN, 10), "checksum"),
    (_bump(_PLAIN, 9), "checksum"),
    (_bump(_TENOR, 10), "checksum"),
    (_bump(_TENOR, 0), "checksum"),
    (_bump(_TENOR, 6), "checksum"),
    (_TENOR[1] + _TENOR[0] + _TENOR[2:], "checksum"),  # transposed day digits
    (make_first(14, 3, 38, S1900, synthetic="tenor", k1_remainder=4), "checksum"),
    (make_first(14, 3, 38, S1900, synthetic="tenor", k1_remainder=10), "checksum"),
    (make_first(1, 1, 55, S1800, "h_number", k1_remainder=1), "checksum"),  # no 2032 rule for H
    (make_fh_number("812345670", k1_remainder=2), "checksum"),  # nor for FH
    # date
    ("00000000000", "date"),
    (make_first(31, 4, 55, S1800), "date"),
    (make_first(31, 4, 45, S1900, synthetic="tenor"), "date"),
    (make_first(29, 2, 55, S1800), "date"),
    (make_first(29, 2, 53, S1900, synthetic="tenor"), "date"),
    (make_first(30, 2, 56, S1800), "date"),
    (make_first(31, 6, 41, S1900, "d_number", "tenor"), "date"),
    (make_first(0, 5, 55, S1800), "date"),
    (make_first(0, 5, 55, S1800, "d_number"), "date"),  # day field 40
    (make_first(32, 1, 55, S1800), "date"),
    (make_first(32, 1, 55, S1800, "d_number"), "date"),  # day field 72
    (make_first(1, 13, 55, S1800), "date"),
    (make_first(1, 0, 55, S1800), "date"),
    (make_first(1, 13, 45, S1900, synthetic="tenor"), "date"),  # month field 93
    (make_first(1, 0, 45, S1900, synthetic="tenor"), "date"),  # month field 80
    (make_first(1, 13, 55, S1800, "h_number"), "date"),  # month field 53
    (make_first(5, 5, 55, S1800, "d_number", "nav"), "date"),  # D + H by default
    (make_first(5, 5, 55, S1800, "d_number", "nav", k1_remainder=1), "date"),
    (make_first(31, 4, 55, S1800, k1_remainder=1), "date"),  # 2032 rule, still no 31 April
    # length
    ("", "length"),
    ("   ", "length"),
    ("1", "length"),
    (_TENOR[:10], "length"),
    (_TENOR + "0", "length"),
    (_TENOR * 2, "length"),
    # not_digits
    ("abcdefghijk", "not_digits"),
    (_TENOR[:5] + "X" + _TENOR[6:], "not_digits"),
    (f"{_TENOR[:6]}-{_TENOR[6:]}", "not_digits"),
    (f"{_TENOR[:6]} {_TENOR[6:]}", "not_digits"),
    (_TENOR.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")), "not_digits"),  # Arabic-Indic
    (_TENOR.translate(str.maketrans("0123456789", "０１２３４５６７８９")), "not_digits"),  # noqa: RUF001
    (_TENOR[:10] + "²", "not_digits"),
    ("+" + _TENOR[1:], "not_digits"),
    ("-" + _TENOR[1:], "not_digits"),
]

# (number, today) rejected with reason "future_date".
FUTURE_DATE_CASES: list[tuple[str, date]] = [
    (make_first(31, 12, 39, S2000, synthetic="tenor"), date(2025, 6, 1)),
    (make_first(1, 1, 30, S2000, synthetic="tenor"), date(2029, 12, 31)),
    (make_first(2, 3, 31, S2000, "d_number", "tenor"), date(2031, 3, 1)),
]

# (input, normalised) valid organisation numbers. 974760673 is Brønnøysundregistrene's own
# (public) number; the others are constructed.
VALID_ORGANISATION_NUMBERS: list[tuple[str, str]] = [
    ("974760673", "974760673"),
    ("974 760 673", "974760673"),
    ("  974760673\n", "974760673"),
    (make_org_number("81234567"), make_org_number("81234567")),
    (make_org_number("90000000"), make_org_number("90000000")),
    (make_org_number("99999999"), make_org_number("99999999")),
]


def _org_body(check: int) -> str:
    """First 8-digit body from 80000000 whose check digit is `check` (10: no valid number)."""
    for n in range(80_000_000, 80_001_000):
        total = sum(int(d) * w for d, w in zip(str(n), ORG_WEIGHTS, strict=True))
        if (-total) % 11 == check:
            return str(n)
    raise AssertionError("unreachable")


_ORG_CHECK_0 = _org_body(0) + "0"  # remainder 0: 11 - 0 = 11 -> check digit 0
VALID_ORGANISATION_NUMBERS.append((_ORG_CHECK_0, _ORG_CHECK_0))

# (input, reason)
INVALID_ORGANISATION_NUMBERS: list[tuple[str, str]] = [
    ("974760674", "checksum"),
    ("947760673", "checksum"),
    *((_org_body(10) + str(last), "checksum") for last in (0, 1, 9)),  # check would be 10
    ("", "length"),
    ("   ", "length"),
    ("97476067", "length"),
    ("9747606730", "length"),
    ("974 760 67", "length"),
    ("97476067A", "not_digits"),
    ("974-760-673", "not_digits"),
    ("974.760.673", "not_digits"),
    ("NO974760673MVA", "not_digits"),
    ("٩٧٤٧٦٠٦٧٣", "not_digits"),
]
