"""Norwegian person identity numbers and organisation numbers: validation, parsing, test data.

Pure functions, no I/O. A person identity number is 11 digits, DDMMYY + individual number
(3 digits) + check digits k1 and k2 (mod 11). Variants recognised:

* fødselsnummer (birth number);
* D-number: day + 40 (41-71);
* H-number (local help number): month + 40 (41-52);
* FH-number (felles hjelpenummer): first digit 8 or 9, no date meaning;
* synthetic test numbers: Tenor (Skatteetaten's test register) month + 80, NAV month + 40.
  NAV's +40 collides with H-numbers, so `Month40Meaning` says which one the caller means.
  Synthetic numbers may also be D-numbers (day + 40).

Identity numbers are personal data: `IdentityNumber` and the exceptions never render the
number in `repr`/`str`/messages, so they cannot land in logs by accident.

Numbers issued from 1 January 2032 (see `_RULES_2032_*` below) no longer encode gender or
century. `IdentityNumber.birth_date` is therefore the classic (pre-2032) reading; for a number
that is only valid under the 2032 rules it is None and the birth date must come from
Folkeregisteret.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Literal

__all__ = [
    "IdentityKind",
    "IdentityNumber",
    "InvalidIdentityNumber",
    "InvalidOrganisationNumber",
    "Month40Meaning",
    "SyntheticSource",
    "fhir_system",
    "is_valid_identity_number",
    "is_valid_organisation_number",
    "parse_identity_number",
    "parse_organisation_number",
    "synthetic_identity_number",
    "synthetic_identity_numbers",
]


class IdentityKind(StrEnum):
    birth_number = "birth_number"
    d_number = "d_number"
    h_number = "h_number"
    fh_number = "fh_number"


class SyntheticSource(StrEnum):
    none = "none"
    tenor = "tenor"  # Skatteetaten's Tenor test register: month + 80
    nav = "nav"  # NAV's synthetic numbers: month + 40 (collides with H-numbers)


class Month40Meaning(StrEnum):
    """What a month of 41-52 means; the number alone cannot tell."""

    h_number = "h_number"
    nav_synthetic = "nav_synthetic"


IdentityReason = Literal[
    "length", "not_digits", "checksum", "date", "century", "future_date", "synthetic_not_allowed"
]
OrganisationReason = Literal["length", "not_digits", "checksum"]


class InvalidIdentityNumber(ValueError):
    """`reason` is a stable machine code; the message never contains the number."""

    def __init__(self, reason: IdentityReason, message: str) -> None:
        super().__init__(message)
        self.reason: IdentityReason = reason


class InvalidOrganisationNumber(ValueError):
    """`reason` is a stable machine code; the message never contains the number."""

    def __init__(self, reason: OrganisationReason, message: str) -> None:
        super().__init__(message)
        self.reason: OrganisationReason = reason


@dataclass(frozen=True, repr=False)
class IdentityNumber:
    value: str
    kind: IdentityKind
    synthetic: SyntheticSource
    # Classic reading; None for FH-numbers and for numbers only valid under the 2032 rules.
    birth_date: date | None
    # True if the number is valid only under the 2032 rules (see `_RULES_2032_*`).
    rules_2032: bool

    @property
    def masked(self) -> str:
        """All but the last two digits (the check digits) replaced by '*'."""
        return "*" * (len(self.value) - 2) + self.value[-2:]

    def __repr__(self) -> str:
        return f"IdentityNumber(kind={self.kind}, synthetic={self.synthetic}, ***********)"

    __str__ = __repr__


_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ORG_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)

# The 2032 rules, as read from Skatteetaten's "Nytt fødselsnummer fra 2032"
# (folkeregisteret-api-dokumentasjon): only k1 changes. Classic k1 makes the weighted sum of
# the first ten digits (weights 3 7 6 1 8 9 4 5 2, and 1 for k1) = 0 mod 11; from 2032 any
# remainder 0, 1, 2 or 3 is accepted, so one date + individual number yields up to four k1
# values (a k1 of 10 is still discarded). k2 is computed exactly as before over the first ten
# digits and must leave remainder 0. The change covers fødselsnumre and D-numbers (and their
# synthetic twins), not H- or FH-numbers. The individual number no longer tells the century.
_RULES_2032_REMAINDERS = frozenset({0, 1, 2, 3})
_RULES_2032_KINDS = frozenset({IdentityKind.birth_number, IdentityKind.d_number})
_RULES_2032_START = date(2032, 1, 1)

_FHIR_SYSTEMS: dict[IdentityKind, str | None] = {
    IdentityKind.birth_number: "urn:oid:2.16.578.1.12.4.1.4.1",
    IdentityKind.d_number: "urn:oid:2.16.578.1.12.4.1.4.2",
    IdentityKind.fh_number: "urn:oid:2.16.578.1.12.4.1.4.3",
    # H-numbers are issued locally by each health institution; there is no national OID.
    IdentityKind.h_number: None,
}


def fhir_system(kind: IdentityKind) -> str | None:
    """FHIR `Identifier.system` for a kind (HL7 Norway no-basis), or None for H-numbers.

    H-numbers have no national identifier system: they are only unique within the issuing
    institution, so the caller must use that institution's own system.
    """
    return _FHIR_SYSTEMS[kind]


def _weighted_sum(digits: str, weights: Sequence[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def _check_digit(digits: str, weights: Sequence[int], remainder: int = 0) -> int | None:
    """The digit that makes (weighted sum + digit) mod 11 == remainder; None if it would be 10."""
    check = (remainder - _weighted_sum(digits, weights)) % 11
    return None if check == 10 else check


def _century_year(year2: int, individual: int) -> int | None:
    """Skatteetaten's classic table: the individual number decides the century."""
    if individual <= 499:
        return 1900 + year2
    if individual <= 749 and year2 >= 54:
        return 1800 + year2
    if year2 <= 39:
        return 2000 + year2  # individual 500-999
    if individual >= 900:
        return 1900 + year2  # year 40-99
    return None


def _date_exists_in_some_century(year2: int, month: int, day: int) -> bool:
    # 2000 is a leap year and otherwise leap years agree across centuries, so 20yy is the
    # most permissive reading.
    try:
        date(2000 + year2, month, day)
    except ValueError:
        return False
    return True


def _ascii_digits(
    value: str, length: int, error: type[InvalidIdentityNumber | InvalidOrganisationNumber]
) -> str:
    if not value:
        raise error("length", f"expected {length} digits, got nothing")
    # str.isdigit alone accepts e.g. Arabic-Indic and full-width digits.
    if not (value.isascii() and value.isdigit()):
        raise error("not_digits", "only the ASCII digits 0-9 are allowed")
    if len(value) != length:
        raise error("length", f"expected {length} digits, got {len(value)}")
    return value


def _decode(dd: int, mm: int, month40: Month40Meaning) -> tuple[IdentityKind, SyntheticSource, int, int]:
    """Kind, synthetic source, real day and real month from the encoded DD and MM."""
    if dd >= 80:
        return IdentityKind.fh_number, SyntheticSource.none, 0, 0
    is_d = dd >= 40
    day = dd - 40 if is_d else dd
    if not 1 <= day <= 31:
        raise InvalidIdentityNumber("date", "day is out of range")
    is_h = False
    synthetic = SyntheticSource.none
    if 1 <= mm <= 12:
        month = mm
    elif 41 <= mm <= 52:
        month = mm - 40
        if month40 is Month40Meaning.h_number:
            is_h = True
        else:
            synthetic = SyntheticSource.nav
    elif 81 <= mm <= 92:
        month = mm - 80
        synthetic = SyntheticSource.tenor
    else:
        raise InvalidIdentityNumber("date", "month is out of range")
    if is_d and is_h:
        raise InvalidIdentityNumber("date", "a D-number day cannot be combined with an H-number month")
    kind = IdentityKind.d_number if is_d else IdentityKind.h_number if is_h else IdentityKind.birth_number
    return kind, synthetic, day, month


def _classic_birth_date(year2: int, individual: int, month: int, day: int, today: date | None) -> date:
    year = _century_year(year2, individual)
    if year is None:
        raise InvalidIdentityNumber("century", "the individual number gives no century for this birth year")
    try:
        birth = date(year, month, day)
    except ValueError:
        raise InvalidIdentityNumber("date", "the birth date does not exist") from None
    if today is not None and birth > today:
        raise InvalidIdentityNumber("future_date", "the birth date is in the future")
    return birth


def parse_identity_number(
    value: str,
    *,
    allow_synthetic: bool = True,
    month40: Month40Meaning = Month40Meaning.h_number,
    accept_2032_rules: bool = True,
    today: date | None = None,
) -> IdentityNumber:
    """Parse and validate an 11-digit person identity number; raise `InvalidIdentityNumber`."""
    digits = _ascii_digits(value.strip(), 11, InvalidIdentityNumber)
    kind, synthetic, day, month = _decode(int(digits[0:2]), int(digits[2:4]), month40)
    if synthetic is not SyntheticSource.none and not allow_synthetic:
        raise InvalidIdentityNumber("synthetic_not_allowed", "synthetic test numbers are not allowed here")

    relaxed = accept_2032_rules and kind in _RULES_2032_KINDS
    r1 = (_weighted_sum(digits, _K1_WEIGHTS) + int(digits[9])) % 11
    r2 = (_weighted_sum(digits, _K2_WEIGHTS) + int(digits[10])) % 11
    if r2 != 0 or not (r1 == 0 or (relaxed and r1 in _RULES_2032_REMAINDERS)):
        raise InvalidIdentityNumber("checksum", "the check digits do not match")

    if kind is IdentityKind.fh_number:
        return IdentityNumber(digits, kind, synthetic, None, rules_2032=False)

    year2 = int(digits[4:6])
    if r1 == 0:
        try:
            birth = _classic_birth_date(year2, int(digits[6:9]), month, day, today)
            return IdentityNumber(digits, kind, synthetic, birth, rules_2032=False)
        except InvalidIdentityNumber as exc:
            # From 2032 the individual number says nothing about the century, so a failed
            # classic reading is not proof of invalidity; but 2032-rule numbers cannot have
            # been issued before 2032, so a future date before then stays an error.
            before_2032 = today is not None and today < _RULES_2032_START
            if not relaxed or (exc.reason == "future_date" and before_2032):
                raise
    if not _date_exists_in_some_century(year2, month, day):
        raise InvalidIdentityNumber("date", "the birth date does not exist")
    return IdentityNumber(digits, kind, synthetic, None, rules_2032=True)


def is_valid_identity_number(
    value: str,
    *,
    allow_synthetic: bool = True,
    month40: Month40Meaning = Month40Meaning.h_number,
    accept_2032_rules: bool = True,
    today: date | None = None,
) -> bool:
    try:
        parse_identity_number(
            value,
            allow_synthetic=allow_synthetic,
            month40=month40,
            accept_2032_rules=accept_2032_rules,
            today=today,
        )
    except InvalidIdentityNumber:
        return False
    return True


def parse_organisation_number(value: str) -> str:
    """Validate a 9-digit organisation number ("974 760 673" allowed); return the 9 digits."""
    digits = _ascii_digits(value.strip().replace(" ", ""), 9, InvalidOrganisationNumber)
    if _check_digit(digits[:8], _ORG_WEIGHTS) != int(digits[8]):
        raise InvalidOrganisationNumber("checksum", "the check digit does not match")
    return digits


def is_valid_organisation_number(value: str) -> bool:
    try:
        parse_organisation_number(value)
    except InvalidOrganisationNumber:
        return False
    return True


_SYNTHETIC_MONTH_OFFSET = {SyntheticSource.none: 0, SyntheticSource.tenor: 80, SyntheticSource.nav: 40}


def synthetic_identity_number(
    birth: date,
    individual: int,
    *,
    kind: IdentityKind = IdentityKind.birth_number,
    synthetic: SyntheticSource = SyntheticSource.tenor,
    k1_remainder: int = 0,
) -> str:
    """Construct a number for test and demo data; raise ValueError if no such number exists.

    The individual number must fit the birth year's century (classic table). Raises when a
    check digit would be 10 under the chosen k1 remainder (0 = classic; 1-3 = only valid under
    the 2032 rules). NAV numbers (month + 40) parse as such only with
    `month40=Month40Meaning.nav_synthetic`. With `synthetic=SyntheticSource.none` the result
    is indistinguishable from a real person's number: keep that to tests of the plain path.
    """
    if kind is IdentityKind.fh_number:
        raise ValueError("FH-numbers carry no birth date")
    if kind is IdentityKind.h_number and synthetic is not SyntheticSource.none:
        raise ValueError("H-numbers have no synthetic variant")
    if k1_remainder not in _RULES_2032_REMAINDERS or (k1_remainder and kind not in _RULES_2032_KINDS):
        raise ValueError("k1_remainder must be 0, or 1-3 for birth and D-numbers")
    if not 0 <= individual <= 999:
        raise ValueError("the individual number must be 0-999")
    if _century_year(birth.year % 100, individual) != birth.year:
        raise ValueError("the individual number does not fit the birth year's century")
    day = birth.day + (40 if kind is IdentityKind.d_number else 0)
    month = birth.month + _SYNTHETIC_MONTH_OFFSET[synthetic] + (40 if kind is IdentityKind.h_number else 0)
    body = f"{day:02d}{month:02d}{birth.year % 100:02d}{individual:03d}"
    k1 = _check_digit(body, _K1_WEIGHTS, k1_remainder)
    if k1 is None:
        raise ValueError("this individual number gives a k1 of 10")
    k2 = _check_digit(f"{body}{k1}", _K2_WEIGHTS)
    if k2 is None:
        raise ValueError("this individual number gives a k2 of 10")
    return f"{body}{k1}{k2}"


@cache
def _individual_numbers(year: int) -> tuple[int, ...]:
    """The individual numbers the classic table allows for a birth year."""
    if 1854 <= year <= 1899:
        return tuple(range(500, 750))
    if 1900 <= year <= 1939:
        return tuple(range(500))
    if 1940 <= year <= 1999:
        return (*range(500), *range(900, 1000))
    if 2000 <= year <= 2039:
        return tuple(range(500, 1000))
    raise ValueError("birth years 1854-2039 only")


def synthetic_identity_numbers(
    count: int,
    seed: int = 0,
    *,
    kinds: Sequence[IdentityKind] = (IdentityKind.birth_number,),
    synthetic: SyntheticSource = SyntheticSource.tenor,
    born_from: date = date(1925, 1, 1),
    born_to: date = date(2010, 12, 31),
) -> Iterator[str]:
    """Yield `count` distinct valid classic numbers, the same ones for the same arguments."""
    if not kinds or IdentityKind.fh_number in kinds:
        raise ValueError("kinds must be birth, D- or H-numbers")
    if IdentityKind.h_number in kinds and synthetic is not SyntheticSource.none:
        raise ValueError("H-numbers have no synthetic variant")
    if not date(1854, 1, 1) <= born_from <= born_to <= date(2039, 12, 31):
        raise ValueError("the birth range must lie within 1854-2039")
    rng = random.Random(seed)
    seen: set[str] = set()
    first, span = born_from.toordinal(), born_to.toordinal() - born_from.toordinal() + 1
    attempts = 0
    while len(seen) < count:
        attempts += 1
        if attempts > 20 * count + 1000:
            raise ValueError("the birth range is too small for that many distinct numbers")
        birth = date.fromordinal(first + rng.randrange(span))
        individual = rng.choice(_individual_numbers(birth.year))
        try:
            number = synthetic_identity_number(birth, individual, kind=rng.choice(kinds), synthetic=synthetic)
        except ValueError:
            continue  # a check digit of 10: that combination is never issued
        if number not in seen:
            seen.add(number)
            yield number


def age_on(birth: date, on: date) -> int:
    """Whole years of age on a date (a person born 29 February turns a year older on 1 March)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def age_band(birth: date | None, on: date) -> Literal["0-66", "67-79", "80+"] | None:
    """The KOSTRA age band (0-66, 67-79, 80+) on a date; None without a birth date."""
    if birth is None:
        return None
    age = age_on(birth, on)
    return "0-66" if age < 67 else "67-79" if age < 80 else "80+"
