"""Co-payment (egenbetaling) as a pure calculation: free services cost nothing; chargeable
ones cost hours times the hourly price, capped by the band's monthly maximum for the household's
income in multiples of the national base amount G. Money is integer øre."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Band:
    valid_from: date
    income_min_g: Decimal
    income_max_g: Decimal | None
    hourly_price_ore: int
    max_per_month_ore: int


@dataclass(frozen=True)
class Copayment:
    chargeable: bool
    monthly_ore: int
    band: Band | None
    statement_nb: str


def band_for(bands: Sequence[Band], income_g: Decimal, on: date) -> Band | None:
    """The band in force on `on` whose income range holds `income_g` (lower bound inclusive)."""
    in_force = [b for b in bands if b.valid_from <= on]
    if not in_force:
        return None
    latest = max(b.valid_from for b in in_force)
    for band in sorted((b for b in in_force if b.valid_from == latest), key=lambda b: b.income_min_g):
        if band.income_min_g <= income_g and (band.income_max_g is None or income_g < band.income_max_g):
            return band
    return None


def kroner(ore: int) -> str:
    """Norwegian amount: 1 234,50 kr."""
    whole, rest = divmod(ore, 100)
    grouped = f"{whole:,}".replace(",", "\u00a0")
    return f"{grouped},{rest:02d} kr"


def copayment(
    *, chargeable: bool, hours_per_month: Decimal, income_g: Decimal | None, bands: Sequence[Band], on: date
) -> Copayment:
    if not chargeable:
        return Copayment(False, 0, None, "Tjenesten er gratis.")
    if income_g is None:
        return Copayment(
            True,
            0,
            None,
            "Egenbetaling fastsettes når vi kjenner husstandens inntekt; du får eget vedtak om den.",
        )
    band = band_for(bands, income_g, on)
    if band is None:
        return Copayment(True, 0, None, "Ingen egenbetalingssats gjelder for denne inntekten.")
    raw = (hours_per_month * band.hourly_price_ore).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    monthly = min(int(raw), band.max_per_month_ore)
    return Copayment(
        True,
        monthly,
        band,
        f"Du betaler {kroner(band.hourly_price_ore)} per time, høyst {kroner(band.max_per_month_ore)} "
        f"per måned. For vedtatt omfang blir det {kroner(monthly)} per måned.",
    )
