"""IPLOS function variables and scores: a versioned code list (DOMAIN § 9).

Each function variable of a person is scored 1 no problems, 2 manages alone with changed
standard, 3 needs some help, 4 needs a lot of help, 5 fully dependent, or 9 not relevant.
The national list of variables changes between revisions, so it is kept per version: an
assessment records the version it was scored against, and its scores are validated against
that version's variables. A new national revision is a new entry in `VERSIONS`; old
assessments keep theirs.

Keys are hjemflyt's own stable English names (they travel in events and are stored), not
the register's codes: the IPLOS register file (`fnFunkType` in IPLOS-2018-rev2018-10-10.xsd)
carries a numeric variable code the schema does not enumerate, so `register_code` is left
None until it is filled in from the directorate's published code list. Do not guess it.

Pure data and pure functions, no IO: pathway and budget may read scores from events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import IntEnum, StrEnum


class Score(IntEnum):
    no_problems = 1
    changed_standard = 2  # manages alone, with a changed standard
    some_help = 3
    much_help = 4
    fully_dependent = 5
    not_relevant = 9

    @property
    def name_nb(self) -> str:
        return SCORE_NAMES_NB[self]

    @property
    def counts_for_level(self) -> bool:
        """Whether the score says something about function (9 does not)."""
        return self is not Score.not_relevant


SCORE_NAMES_NB: dict[Score, str] = {
    Score.no_problems: "Ingen problemer",
    Score.changed_standard: "Klarer seg selv, med endret standard",
    Score.some_help: "Trenger noe bistand",
    Score.much_help: "Trenger mye bistand",
    Score.fully_dependent: "Helt avhengig av bistand",
    Score.not_relevant: "Ikke relevant",
}

SCORE_VALUES: frozenset[int] = frozenset(int(s) for s in Score)


class FunctionGroup(StrEnum):
    """hjemflyt's grouping of the variables, in the order of the IPLOS assessment form."""

    social = "social"
    household = "household"
    personal_care = "personal_care"
    mobility = "mobility"
    cognition = "cognition"
    senses = "senses"

    @property
    def name_nb(self) -> str:
        return GROUP_NAMES_NB[self]


GROUP_NAMES_NB: dict[FunctionGroup, str] = {
    FunctionGroup.social: "Sosial fungering",
    FunctionGroup.household: "Husholdningsaktiviteter",
    FunctionGroup.personal_care: "Egenomsorg",
    FunctionGroup.mobility: "Bevegelse",
    FunctionGroup.cognition: "Hukommelse og kommunikasjon",
    FunctionGroup.senses: "Sansing",
}


@dataclass(frozen=True)
class FunctionVariable:
    key: str  # stable, English snake_case; what scores, storage and events use
    name_nb: str
    name_en: str
    group: FunctionGroup
    # The register's numeric variable code (fnFunkType). Not enumerated in the schema we
    # have, and not guessed: None until taken from the national code list.
    register_code: int | None = None


@dataclass(frozen=True)
class CodeListVersion:
    version: str
    variables: tuple[FunctionVariable, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(v.key for v in self.variables)

    def variable(self, key: str) -> FunctionVariable | None:
        return next((v for v in self.variables if v.key == key), None)


def _v(key: str, name_nb: str, name_en: str, group: FunctionGroup) -> FunctionVariable:
    return FunctionVariable(key, name_nb, name_en, group)


_G = FunctionGroup

# The variables named in DOMAIN § 9. The national list has grown to about 20: variables
# confirmed from the directorate's list are added as a new version, never into this one.
V2018 = CodeListVersion(
    "2018",
    (
        _v("social_participation", "Sosial deltakelse", "Social participation", _G.social),
        _v("decisions_in_daily_life", "Beslutninger i dagliglivet", "Decisions in daily life", _G.social),
        _v("controlling_behaviour", "Styre atferd", "Controlling behaviour", _G.social),
        _v("housework", "Alminnelig husarbeid", "Housework", _G.household),
        _v(
            "getting_goods_and_services",
            "Skaffe seg varer og tjenester",
            "Getting goods and services",
            _G.household,
        ),
        _v("cooking", "Lage mat", "Cooking", _G.household),
        _v("managing_own_health", "Ivareta egen helse", "Managing own health", _G.personal_care),
        _v("personal_hygiene", "Personlig hygiene", "Personal hygiene", _G.personal_care),
        _v("dressing", "Av- og påkledning", "Dressing", _G.personal_care),
        _v("eating", "Spise", "Eating", _G.personal_care),
        _v("toilet", "Toalett", "Toilet", _G.personal_care),
        _v("moving_indoors", "Bevege seg innendørs", "Moving indoors", _G.mobility),
        _v("moving_outdoors", "Bevege seg utendørs", "Moving outdoors", _G.mobility),
        _v("memory", "Hukommelse", "Memory", _G.cognition),
        _v("communication", "Kommunikasjon", "Communication", _G.cognition),
        _v("vision", "Syn", "Vision", _G.senses),
        _v("hearing", "Hørsel", "Hearing", _G.senses),
    ),
)

VERSIONS: dict[str, CodeListVersion] = {V2018.version: V2018}
CURRENT_VERSION = "2018"


class UnknownVersion(ValueError):
    pass


def code_list(version: str = CURRENT_VERSION) -> CodeListVersion:
    try:
        return VERSIONS[version]
    except KeyError:
        raise UnknownVersion(f"unknown IPLOS code list version {version!r}") from None


@dataclass(frozen=True)
class ScoreProblem:
    rule: str  # unknown-iplos-variable | invalid-iplos-score
    variable: str
    message: str


def is_score(value: object) -> bool:
    """1-5 or 9, as an int (a bool or "3" is not a score)."""
    # `type(...) is int`: a bool is an int subclass, and True is not a score.
    return type(value) is int and value in SCORE_VALUES


def validate_scores(scores: Mapping[str, object], version: CodeListVersion) -> list[ScoreProblem]:
    """Every problem at once, in the order of the scores given."""
    problems: list[ScoreProblem] = []
    for key, value in scores.items():
        if version.variable(key) is None:
            problems.append(
                ScoreProblem(
                    "unknown-iplos-variable",
                    key,
                    f"{key!r} is not a function variable of IPLOS version {version.version}.",
                )
            )
        elif not is_score(value):
            problems.append(
                ScoreProblem(
                    "invalid-iplos-score",
                    key,
                    f"The score of {key!r} must be 1, 2, 3, 4, 5 or 9 (not relevant).",
                )
            )
    return problems


def unscored(scores: Mapping[str, object], version: CodeListVersion) -> list[str]:
    """The version's variables without a score, in code list order."""
    return [key for key in version.keys if key not in scores]


def average_function_level(scores: Mapping[str, int]) -> Decimal | None:
    """The mean of the scores 1-5, leaving out 9 (not relevant), to two decimals; None if
    nothing counts. An indicator, not an assessment: it says nothing about which function."""
    counted = [s for s in scores.values() if is_score(s) and Score(s).counts_for_level]
    if not counted:
        return None
    return (Decimal(sum(counted)) / len(counted)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
