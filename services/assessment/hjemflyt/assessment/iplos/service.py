"""Use cases of the IPLOS report: the completeness report and the two files of a year.

Both read every recipient's identity number (decrypted to read gender and age), so both are
reads of personal data and are access-logged per person. The files need the whole
municipality (an integration account, or a token for all districts); the completeness report
follows the principal's districts, so a case officer can mend their own.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.iplos import register, rules
from hjemflyt.assessment.iplos.repository import IplosRepository
from hjemflyt.assessment.iplos.schemas import (
    CompletenessOut,
    FiguresOut,
    PersonProblemsOut,
    ProblemOut,
    ReportIn,
    ReportOut,
)
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Forbidden, Problem, RuleViolation

RESOURCE = "iplos-report"
FIRST_YEAR = 2018  # the schema's revision


class SchemaInvalid(Problem):
    """The file fails the schema outside any person's record: hjemflyt wrote it wrong."""

    status, slug, title = 500, "iplos-schema-invalid", "The IPLOS file does not validate"


class RecordsInvalid(Conflict):
    """Persons' records fail the schema: their data (or their decisions') must be mended first."""

    slug, title = "iplos-records-invalid", "Records in the IPLOS file do not validate"


_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?(\w+)'")


def _refuse_invalid(report: rules.Report, problems: list[register.SchemaProblem]) -> None:
    """Never hand out a file the register would refuse as a whole. When every error lies in a
    person's record, the cause is data: answer 409 naming the persons (pseudonymous ids) and
    the elements, with the completeness report. The validator's messages quote values, which
    may be personal data, so they stay out of the answer. Anything else is hjemflyt's bug: 500."""
    if not problems:
        return
    if any(p.person_key is None for p in problems):
        raise SchemaInvalid("The content file does not validate against the IPLOS 2018 schema.")
    person_of = {p.key: p.person_id for p in report.persons}
    fields: defaultdict[uuid.UUID, set[str]] = defaultdict(set)
    for p in problems:
        m = _ELEMENT.search(p.reason)
        fields[person_of[p.person_key]].add(m.group(1) if m else "?")  # type: ignore[index]
    raise RecordsInvalid(
        f"The records of {len(fields)} person(s) would not validate against the IPLOS 2018 schema, "
        "so no file is handed out. Mend what `persons` names (and what the completeness report "
        "lists) and produce the files again.",
        persons=[
            {"person_id": str(pid), "elements": sorted(els)}
            for pid, els in sorted(fields.items(), key=lambda x: str(x[0]))
        ],
        completeness=completeness_of(report).model_dump(mode="json"),
    )


def _check_year(ctx: ServiceContext, year: int) -> None:
    if not FIRST_YEAR <= year <= ctx.clock.today().year:
        raise RuleViolation(
            f"The year must lie between {FIRST_YEAR} and this year.", slug="iplos-year-out-of-range"
        )


async def _report(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, year: int
) -> rules.Report:
    persons, assessments, decisions, appeals = await IplosRepository(session).facts(
        principal, year, ctx.cipher.decrypt
    )
    sender = rules.Sender(municipality=ctx.settings.tenant, contacts=())
    return rules.build_report(
        year,
        sender,
        persons,
        assessments,
        decisions,
        appeals,
        register_codes=ctx.settings.iplos_register_codes(),
    )


def _problem(p: rules.Problem) -> ProblemOut:
    return ProblemOut(
        rule=p.rule.value,
        message=p.message,
        left_out=p.left_out,
        decision_id=p.decision_id,
        service_type=p.service_type,
    )


def figures(report: rules.Report) -> FiguresOut:
    return FiguresOut(
        persons=len(report.persons),
        services=report.service_count,
        hours_per_week=report.hours_per_week.quantize(Decimal("0.01")),
        function_scores=sum(len(p.functions) for p in report.persons),
    )


def completeness_of(report: rules.Report) -> CompletenessOut:
    by: defaultdict[str, list[ProblemOut]] = defaultdict(list)
    delivery: list[ProblemOut] = []
    for p in report.problems:
        if p.person_id is None:
            delivery.append(_problem(p))
        else:
            by[str(p.person_id)].append(_problem(p))
    return CompletenessOut(
        year=report.year,
        municipality=report.municipality,
        complete=not report.problems,
        figures=figures(report),
        delivery_problems=delivery,
        persons=[PersonProblemsOut(person_id=k, problems=v) for k, v in sorted(by.items())],
    )


async def _log(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, report: rules.Report, purpose: str
) -> None:
    person_ids = sorted(
        {p.person_id for p in report.persons} | {p.person_id for p in report.problems if p.person_id}
    )
    await ctx.access_log.record(
        session,
        principal,
        action=Action.read,
        resource=RESOURCE,
        person_ids=person_ids,
        purpose=purpose,
        resource_id=str(report.year),
    )


async def completeness(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, year: int, purpose: str
) -> CompletenessOut:
    _check_year(ctx, year)
    report = await _report(ctx, session, principal, year)
    await _log(ctx, session, principal, report, f"IPLOS completeness {year}: {purpose}")
    return completeness_of(report)


async def produce(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, year: int, body: ReportIn, purpose: str
) -> ReportOut:
    if not principal.all_districts:
        raise Forbidden(
            "The IPLOS files cover the whole municipality.", slug="iplos-needs-whole-municipality"
        )
    _check_year(ctx, year)
    report = await _report(ctx, session, principal, year)
    if not report.persons:
        # The schema wants at least one PERSON: an empty year is no delivery, not a fault.
        raise Conflict(
            f"No person had services in {year}: there is nothing to deliver.", slug="iplos-no-persons"
        )
    sender = rules.Sender(
        municipality=ctx.settings.tenant,
        contacts=tuple(rules.Contact(c.kind, c.name, c.phone, c.email) for c in body.contacts),
    )
    made = ctx.clock.today()
    content = register.content_file(report, sender, made_on=made, serial=body.serial)
    _refuse_invalid(report, register.schema_problems(content, limit=100))
    identity = register.identity_file(report, sender, made_on=made, serial=body.serial)
    await _log(ctx, session, principal, report, f"IPLOS delivery {year}: {purpose}")
    return ReportOut(
        year=year,
        municipality=report.municipality,
        serial=body.serial,
        figures=figures(report),
        content_file=content.decode("utf-8"),
        identity_file=identity.decode("utf-8"),
        completeness=completeness_of(report),
    )
