from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class ProblemOut(BaseModel):
    rule: str = Field(description="The rule's slug, e.g. person-without-scores, service-without-hours")
    message: str
    left_out: bool = Field(description="True: the record is left out of the file until this is mended")
    decision_id: UUID | None = None
    service_type: str | None = None


class PersonProblemsOut(BaseModel):
    person_id: UUID = Field(description="hjemflyt's pseudonymous id of the person")
    problems: list[ProblemOut]


class FiguresOut(BaseModel):
    persons: int
    services: int
    hours_per_week: Decimal = Field(description="The sum of tjTimerUke over the file's services")
    function_scores: int


class CompletenessOut(BaseModel):
    year: int
    municipality: str
    complete: bool = Field(description="True when nothing would be rejected")
    figures: FiguresOut
    delivery_problems: list[ProblemOut] = Field(description="Problems of the whole delivery")
    persons: list[PersonProblemsOut] = Field(description="Per person, what would be rejected")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(
        pattern=r"^[123]$", description="1 responsible for the delivery, 2 IPLOS contact, 3 alternative"
    )
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=40)
    email: str = Field(min_length=3, max_length=200)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contacts: list[ContactIn] = Field(min_length=2, max_length=3, description="INNHINFO/iiKontakt (2-3)")
    serial: str = Field(
        default="1", pattern=r"^[0-9]{1,10}$", description="iiLopenr: the delivery's number, in both files"
    )


class ReportOut(BaseModel):
    year: int
    municipality: str
    serial: str
    figures: FiguresOut
    content_file: str = Field(description="The content file (IPLOS 2018 XML), pseudonymous")
    identity_file: str = Field(description="The identity file: pePeID to identity number. Personal data.")
    completeness: CompletenessOut
