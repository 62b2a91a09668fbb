"""Code lists shared by the services. Versioned data, not logic: a new national revision
is a new entry, and old decisions keep the code they were made with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceCode:
    code: str
    name_nb: str
    name_en: str
    kostra_function: str


# IPLOS service codes (excerpt of the national list, DOMAIN § 9) with their KOSTRA function.
IPLOS_SERVICES: dict[str, ServiceCode] = {
    s.code: s
    for s in (
        ServiceCode("1", "Praktisk bistand - daglige gjøremål", "Practical help - daily tasks", "254"),
        ServiceCode("2", "Praktisk bistand - opplæring", "Practical help - training", "254"),
        ServiceCode(
            "3", "Brukerstyrt personlig assistanse (BPA)", "User-controlled personal assistance", "254"
        ),
        ServiceCode("4", "Dagaktivitetstilbud", "Day activity", "234"),
        ServiceCode("5", "Matombringing", "Meal delivery", "234"),
        ServiceCode("6", "Trygghetsalarm", "Safety alarm", "234"),
        ServiceCode("7", "Avlastning utenfor institusjon", "Respite outside institution", "254"),
        ServiceCode("9", "Støttekontakt", "Support contact", "234"),
        ServiceCode("11", "Omsorgsstønad", "Care allowance", "254"),
        ServiceCode("15", "Helsetjenester i hjemmet", "Health services at home", "254"),
    )
}
