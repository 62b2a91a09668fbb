"""Default configurations for an Oslo-like and a Stavanger-like municipality.

Data, not code: a municipality applies a preset once and then changes what differs.
Amounts are examples to be replaced by the municipality's own decision (DOMAIN § 4:
income bands and prices are configuration); the base amount G is the one in force when
the preset was written.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

_NO_6 = "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav"
_RIGHT = "jf. pasient- og brukerrettighetsloven § 2-1 a"
LEGAL_BASIS = [
    ("hol-3-2-6a", "Helsetjenester i hjemmet", f"{_NO_6} a, {_RIGHT}"),
    ("hol-3-2-6b", "Personlig assistanse, praktisk bistand og opplæring", f"{_NO_6} b, {_RIGHT}"),
    ("hol-3-2-6d", "Avlastningstiltak", f"{_NO_6} d, {_RIGHT}"),
    ("hol-3-8", "Brukerstyrt personlig assistanse",
     "helse- og omsorgstjenesteloven § 3-8, jf. pasient- og brukerrettighetsloven § 2-1 b"),
    ("hol-3-1", "Kommunens ansvar for helse- og omsorgstjenester", "helse- og omsorgstjenesteloven § 3-1"),
]  # fmt: skip

# (code, name, IPLOS service code, KOSTRA function, chargeable, legal basis codes)
SERVICE_TYPES = [
    ("home-nursing", "Helsetjenester i hjemmet (hjemmesykepleie)", "15", "254", False, ["hol-3-2-6a"]),
    ("reablement", "Hverdagsrehabilitering", "15", "254", False, ["hol-3-2-6a"]),
    ("personal-care", "Personlig stell og egenomsorg", "1", "254", False, ["hol-3-2-6b"]),
    ("practical-help", "Praktisk bistand - daglige gjøremål", "1", "254", True, ["hol-3-2-6b"]),
    ("practical-help-training", "Praktisk bistand - opplæring", "2", "254", False, ["hol-3-2-6b"]),
    ("bpa", "Brukerstyrt personlig assistanse (BPA)", "3", "254", False, ["hol-3-8"]),
    ("day-activity", "Dagaktivitetstilbud", "4", "234", True, ["hol-3-1"]),
    ("meal-delivery", "Matombringing", "5", "234", True, ["hol-3-1"]),
    ("safety-alarm", "Trygghetsalarm", "6", "234", True, ["hol-3-1"]),
    ("respite", "Avlastning utenfor institusjon", "7", "254", False, ["hol-3-2-6d"]),
    ("support-contact", "Støttekontakt", "9", "234", False, ["hol-3-2-6b"]),
]

# Income bands in multiples of G: (min, max, hourly price øre, monthly maximum øre).
COPAYMENT_BANDS = [
    (Decimal(0), Decimal(2), 23_500, 23_500),
    (Decimal(2), Decimal(3), 30_000, 120_000),
    (Decimal(3), Decimal(4), 35_000, 180_000),
    (Decimal(4), Decimal(5), 40_000, 240_000),
    (Decimal(5), None, 45_000, 350_000),
]
BANDS_VALID_FROM = date(2026, 1, 1)
G_ORE = 13_016_000  # 130 160 kr

OSLO_DISTRICTS = [
    ("gamle-oslo", "Bydel Gamle Oslo"), ("grunerlokka", "Bydel Grünerløkka"), ("sagene", "Bydel Sagene"),
    ("st-hanshaugen", "Bydel St. Hanshaugen"), ("frogner", "Bydel Frogner"), ("ullern", "Bydel Ullern"),
    ("vestre-aker", "Bydel Vestre Aker"), ("nordre-aker", "Bydel Nordre Aker"), ("bjerke", "Bydel Bjerke"),
    ("grorud", "Bydel Grorud"), ("stovner", "Bydel Stovner"), ("alna", "Bydel Alna"),
    ("ostensjo", "Bydel Østensjø"), ("nordstrand", "Bydel Nordstrand"),
    ("sondre-nordstrand", "Bydel Søndre Nordstrand"),
]  # fmt: skip

STAVANGER_AREAS = [
    ("eiganes-tasta", "Eiganes og Tasta"),
    ("madla-tjensvoll", "Madla og Tjensvoll"),
    ("hundvag-storhaug", "Hundvåg og Storhaug"),
    ("hillevag-hinna", "Hillevåg og Hinna"),
]


def _common() -> dict[str, Any]:
    return {
        "legal_basis": [{"code": c, "title": t, "text": x} for c, t, x in LEGAL_BASIS],
        "service_types": [
            {"code": c, "name": n, "iplos_code": i, "kostra_function": k, "chargeable": ch, "legal_basis": lb}
            for c, n, i, k, ch, lb in SERVICE_TYPES
        ],
        "copayment_bands": [
            {
                "valid_from": BANDS_VALID_FROM,
                "income_min_g": lo,
                "income_max_g": hi,
                "hourly_price_ore": p,
                "max_per_month_ore": m,
            }
            for lo, hi, p, m in COPAYMENT_BANDS
        ],
    }


def oslo() -> dict[str, Any]:
    """Oslo: 15 districts, each with its own allocation office; trust model by default."""
    return _common() | {
        "municipality": {
            "tenant": "0301",
            "name": "Oslo kommune",
            "appeal_body": "Statsforvalteren i Oslo og Akershus",
        },
        "districts": [
            {
                "code": c,
                "name": n,
                "organisation_model": "trust_model",
                "case_office": f"Tildelingskontoret, {n}",
            }
            for c, n in OSLO_DISTRICTS
        ],
        "case_offices": [
            {
                "code": f"tildeling-{c}",
                "name": f"Tildelingskontoret, {n}",
                "phone": "21 80 21 80",
                "email": f"tildeling.{c}@example.invalid",
                "districts": [c],
            }
            for c, n in OSLO_DISTRICTS
        ],
    }


def stavanger() -> dict[str, Any]:
    """Stavanger: four case offices (HVK) paired with four provider units; friere faglighet."""
    return _common() | {
        "municipality": {
            "tenant": "1103",
            "name": "Stavanger kommune",
            "appeal_body": "Statsforvalteren i Rogaland",
        },
        "districts": [
            {"code": c, "name": n, "organisation_model": "professional_freedom", "case_office": f"HVK {n}"}
            for c, n in STAVANGER_AREAS
        ],
        "case_offices": [
            {
                "code": f"hvk-{c}",
                "name": f"Helse- og velferdskontor {n}",
                "phone": "51 50 70 90",
                "email": f"hvk.{c}@example.invalid",
                "districts": [c],
            }
            for c, n in STAVANGER_AREAS
        ],
    }


PRESETS = {"oslo": oslo, "stavanger": stavanger}
