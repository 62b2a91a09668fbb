"""The rule sets a municipality starts from (DOMAIN § 6), shipped as data.

- `stavanger-2022`: the levels model with Stavanger's 2022 figures for every unit.
- `purchaser-provider`: levels for the municipality's own units, hourly purchase on
  delivered hours at each private provider's contract prices.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hjemflyt.budget.financing.rules import Band, HourlyModel, LevelsModel, Part, RuleSetBody


def _band(level: str, low: int, high: int | None, funded: str) -> Band:
    return Band(
        level=level,
        from_hours=Decimal(low),
        to_hours=None if high is None else Decimal(high),
        funded_hours=Decimal(funded),
    )


STAVANGER_2022_LEVELS = LevelsModel(
    general_share=Decimal("0.26"),
    buffer_share=Decimal("0.012"),
    rate_ore_per_hour=79_900,
    bands=[
        _band("base", 0, 20, "3.56"),
        _band("1", 20, 40, "30"),
        _band("2", 40, 60, "50"),
        _band("3", 60, 80, "70"),
        _band("4", 80, None, "90"),
    ],
    focus_threshold_hours=Decimal(100),
)

STAVANGER_2022 = RuleSetBody(
    name="Stavanger 2022 levels model",
    valid_from=date(2022, 1, 1),
    parts=[
        Part(applies_to="municipal", financing=STAVANGER_2022_LEVELS),
        Part(applies_to="private", financing=STAVANGER_2022_LEVELS),
    ],
)

PURCHASER_PROVIDER = RuleSetBody(
    name="Purchaser-provider: levels for own units, hourly purchase from private providers",
    valid_from=date(2022, 1, 1),
    parts=[
        Part(applies_to="municipal", financing=STAVANGER_2022_LEVELS),
        Part(applies_to="private", financing=HourlyModel(basis="delivered")),
    ],
)

DEFAULTS: dict[str, RuleSetBody] = {
    "stavanger-2022": STAVANGER_2022,
    "purchaser-provider": PURCHASER_PROVIDER,
}
