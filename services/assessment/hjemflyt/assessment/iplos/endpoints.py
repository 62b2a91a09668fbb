"""The yearly IPLOS report to the national register (KPR): the completeness report first,
then the two files (content, pseudonymous; identity, apart). Both read every recipient's
identity number and are access-logged per person; the purpose header is kept in the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path

from hjemflyt.assessment.iplos import service
from hjemflyt.assessment.iplos.schemas import CompletenessOut, ReportIn, ReportOut
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.deps import ContextDep, SessionDep, requires

router = APIRouter(tags=["iplos"])

Reader = Annotated[Principal, Depends(requires(Scope.persons_read, Scope.decisions_read))]
Purpose = Annotated[
    str, Header(alias="Hjemflyt-Purpose", max_length=200, description="Kept in the access log")
]
Year = Annotated[int, Path(ge=2018, le=9999, description="The reporting year")]


@router.get(
    "/v1/iplos/{year}/completeness",
    response_model=CompletenessOut,
    responses={422: {"description": "`iplos-year-out-of-range`"}},
    summary="What the register would reject in the year's IPLOS report, per person",
    description="Persons without function scores, services without hours, decisions without a "
    "date, districts without a register number ...; per person by hjemflyt's pseudonymous id, "
    "within the caller's districts. `left_out: true` marks what is left out of the file until "
    "mended. Access-logged per person.",
)
async def completeness(
    year: Year, ctx: ContextDep, session: SessionDep, principal: Reader, purpose: Purpose = "IPLOS"
) -> CompletenessOut:
    return await service.completeness(ctx, session, principal, year, purpose)


@router.post(
    "/v1/iplos/{year}/report",
    response_model=ReportOut,
    responses={
        403: {"description": "`iplos-needs-whole-municipality`: a token for all districts is needed"},
        409: {
            "description": "`iplos-records-invalid`: persons' records would fail the schema, so no file "
            "is returned; `persons` names them (pseudonymous id and the failing elements, never values) "
            "and `completeness` holds the completeness report. Mend and produce again. "
            "`iplos-no-persons`: no person had services in the year (nothing to deliver)."
        },
        422: {"description": "`iplos-year-out-of-range`"},
        500: {
            "description": "`iplos-schema-invalid`: the file failed the schema outside any person's "
            "record (a fault in hjemflyt; no file is returned)"
        },
    },
    summary="Produce the year's IPLOS files: content (IPLOS 2018 XML) and identity, apart",
    description="The content file carries only pePeID; the identity file maps pePeID to the "
    "identity number, with the same iiLopenr. The content file is validated against the IPLOS "
    "2018 schema before it is returned. Nothing is stored. Access-logged per person.",
)
async def report(
    year: Year,
    body: ReportIn,
    ctx: ContextDep,
    session: SessionDep,
    principal: Reader,
    purpose: Purpose = "IPLOS delivery",
) -> ReportOut:
    return await service.produce(ctx, session, principal, year, body, purpose)
