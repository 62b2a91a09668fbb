"""Registry rules (pure): contact formats and the framework agreement's consistency."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date

_SERVICE_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_EMAIL_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_SEPARATORS = re.compile(r"[\s().-]")


def normalise_phone(value: str) -> str:
    """A Norwegian number (8 digits, first 2-9, with or without +47/0047) becomes +47XXXXXXXX;
    any other number must be international E.164 (+ and 7 to 15 digits)."""
    raw = _SEPARATORS.sub("", value)
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    if re.fullmatch(r"[2-9]\d{7}", raw):
        return "+47" + raw
    if raw.startswith("+47"):
        if re.fullmatch(r"\+47[2-9]\d{7}", raw):
            return raw
        raise ValueError("a Norwegian phone number has 8 digits, the first 2-9")
    if re.fullmatch(r"\+[1-9]\d{6,14}", raw):
        return raw
    raise ValueError("not a phone number: give 8 digits or +country code and number")


def normalise_email(value: str) -> str:
    """A practical check of an address (RFC 5321 lengths, dot-atom local part, a domain of
    at least two valid labels with an alphabetic top level); the domain is lowercased."""
    value = value.strip()
    if len(value) > 254 or value.count("@") != 1:
        raise ValueError("not an e-mail address")
    local, domain = value.split("@")
    labels = domain.split(".")
    if (
        not local
        or len(local) > 64
        or not _EMAIL_LOCAL.fullmatch(local)
        or len(labels) < 2
        or not all(_EMAIL_LABEL.fullmatch(label) for label in labels)
        or not labels[-1].isalpha()
    ):
        raise ValueError("not an e-mail address")
    return f"{local}@{domain.lower()}"


def is_service_type(code: str) -> bool:
    return bool(_SERVICE_TYPE.fullmatch(code))


@dataclass(frozen=True)
class Broken:
    slug: str
    detail: str
    service_types: list[str]


def agreement_problems(
    *,
    private: bool,
    service_types: list[str],
    prices: list[tuple[str, int]],
    valid_from: date | None,
    valid_to: date | None,
) -> Broken | None:
    """The first rule the agreement breaks, or None.

    - one price per service type (two prices for one type are ambiguous for settlement);
    - prices only for service types the agreement covers;
    - a private provider has a price for every service type it may deliver (budget settles
      its invoices from them); a municipal unit may have none;
    - the agreement period does not end before it starts.
    """
    duplicated = sorted(t for t, n in Counter(t for t, _ in prices).items() if n > 1)
    if duplicated:
        return Broken("duplicate-contract-price", "Give one contract price per service type.", duplicated)
    unlisted = sorted({t for t, _ in prices} - set(service_types))
    if unlisted:
        return Broken(
            "contract-price-for-unlisted-service-type",
            "Contract prices are only for the service types of the agreement (`service_types`).",
            unlisted,
        )
    if private:
        missing = sorted(set(service_types) - {t for t, _ in prices})
        if missing:
            return Broken(
                "missing-contract-price",
                "A private provider needs a contract price for every service type it may deliver.",
                missing,
            )
    if valid_from and valid_to and valid_to < valid_from:
        return Broken("invalid-agreement-period", "The agreement ends before it starts.", [])
    return None
