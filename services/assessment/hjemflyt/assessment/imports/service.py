"""Bulk import of persons with their active decisions from a case system (Gerica/CosDoc style).

Semantics, as integrators rely on them:

- **Upsert by the case system's keys.** A person is the pair (`source_system`, `external_id`),
  a decision (`source_system` of its person, its `external_id`). What was imported before is
  updated only if it changed, never duplicated. A person registered in hjemflyt before (no
  keys yet) with the same identity number is linked to the case system's keys, not doubled;
  an identity number that belongs to a person under *other* keys is refused.
- **Replays are free.** Sending the same batch again changes nothing: no row, no version, no
  event, no access-log entry (nothing personal was read out or written).
- **An imported decision is active.** It was made and sent in the case system: `status`
  active, `decision_date` kept from the source (`made_at` is its start in Norwegian time,
  `activated_at` the moment of import), a version row with action `imported`, and
  `decision.made` plus one `order.issued` per chosen provider in the same transaction
  (outbox), so budget, pathway and notifications learn of it as of any other decision.
  Appeal text and deadline stay empty: the letter went out from the case system.
- **A changed decision is an amendment:** the next version (action `amended`, with the
  field-level changes), `decision.amended`, and orders to its providers (`changed`, `new`
  for a provider that came in, `ended` for one that left). The case system is the master:
  a reduction is mirrored too (there, it was decided).
  Decisions that a batch does not mention are left as they are (ending is explicit).
- **Per item, all or nothing.** Every item is checked first, with the rules of decisions
  (`rules.check_complete`, the same catalogue, providers and district scopes) and of
  identity numbers; a rejected item writes nothing and comes back with problem details that
  name every broken rule, while the other items are stored. The accepted items are then
  written together, set-based, in the request's one transaction: if that fails, nothing of
  the batch is stored and the whole batch may simply be sent again.
- Imports from one case system are serialised (a transaction-scoped advisory lock), so two
  overlapping batches cannot both create the same person or fork a decision's versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions import builder, rules
from hjemflyt.assessment.decisions.builder import DEFAULT_PURPOSE
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.events import person_age_band
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.rules import RUNNING, Status
from hjemflyt.assessment.decisions.schemas import DecisionOut, ServiceOut
from hjemflyt.assessment.decisions.views import facts, snapshot, to_out
from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.imports.repository import ImportRepository
from hjemflyt.assessment.imports.schemas import (
    DecisionImportIn,
    DecisionResult,
    ImportResult,
    ItemResult,
    PersonImportIn,
)
from hjemflyt.assessment.imports.schemas import Outcome as ItemOutcome
from hjemflyt.assessment.orders import rules as orders
from hjemflyt.assessment.persons.service import normalised_identity
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.contracts.events import (
    AgeBand,
    OrderRecipient,
)
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.clock import OSLO
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Problem, RuleViolation

CENT = Decimal("0.01")
Event = tuple[EventType[Any], BaseModel, str]

# Columns of a decision that an amendment by import rewrites.
_AMENDED_COLUMNS = (
    "version",
    "district",
    "organisation_model",
    "justification",
    "purpose",
    "user_goal",
    "legal_basis",
    "start_date",
    "end_date",
    "evaluation_date",
    "household_income_g",
    "copayment",
    "decision_date",
    "updated_at",
)
# What the case system says about a decision; the rest of the snapshot is hjemflyt's own
# bookkeeping (timestamps, derived names and prices) and does not make a change.
_BOOKKEEPING = frozenset(
    {
        "id",
        "status",
        "organisation_model",
        "application_id",
        "assessment_id",
        "supersedes_id",
        "appeal_text",
        "appeal_deadline",
        "made_by",
        "made_at",
        "sent_at",
        "activated_at",
        "ended_at",
        "end_reason",
    }
)
_SERVICE_BOOKKEEPING = frozenset({"service_name", "service_code", "copayment"})


def _cents(value: Decimal | None) -> Decimal | None:
    """As PostgreSQL's numeric(6, 2) gives it back, so a replay compares equal."""
    return None if value is None else value.quantize(CENT)


# --- the working state of one item --------------------------------------------------------


@dataclass
class _Person:
    number: str
    kind: str
    synthetic: bool
    index: str


@dataclass
class _Plan:
    """Everything one accepted item writes; nothing of it is written if the item is rejected."""

    person_id: uuid.UUID
    person_insert: dict[str, Any] | None = None
    person_update: dict[str, Any] | None = None
    decision_inserts: list[dict[str, Any]] = field(default_factory=list)
    decision_updates: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    access: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[DecisionResult] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.person_insert or self.person_update or self.decision_inserts or self.decision_updates
        )


class _Rejected(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


# --- checks that need no database ---------------------------------------------------------


def _schema_problem(exc: ValidationError) -> dict[str, Any]:
    """Like the platform's 422, without the offending values (they may be personal data)."""
    errors = [
        {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "code": e.get("type", "")}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]
    return Problem(
        "The item does not match the schema; see `errors`.",
        status=422,
        slug="validation-error",
        title="Invalid request",
        errors=errors,
    ).body()


def _rule_problem(violations: Sequence[rules.Violation]) -> RuleViolation:
    broken = sorted({v.rule for v in violations})
    return RuleViolation(
        "The item breaks these rules: " + ", ".join(broken) + ". Nothing of it was stored.",
        slug=broken[0] if len(broken) == 1 else "decision-incomplete",
        missing=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


def _key_of(raw: Any) -> tuple[str | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    system, external = raw.get("source_system"), raw.get("external_id")
    return (system if isinstance(system, str) else None, external if isinstance(external, str) else None)


# --- what a decision will say ---------------------------------------------------------------


def _proposed(
    body: DecisionImportIn,
    prior: Decision | None,
    person_id: uuid.UUID,
    district: District,
    catalogue: Catalogue,
    principal: Principal,
    now: datetime,
) -> DecisionOut:
    """The decision as it will be stored, built as `decisions.service` builds one (default
    scope by the district's organisation model, decided hours, legal basis from the services,
    co-payment) so that a decision reads the same however it came in."""
    # As an amendment through the API does: a provider chosen earlier stays unless replaced.
    chosen = {s.service_type: s.provider_org for s in prior.services} if prior is not None else {}
    services: list[ServiceOut] = []
    for s in body.services:
        kind, resolved, hours = builder.scope(s, district.organisation_model, catalogue)
        service_type = catalogue.service_types.get(s.service_type)
        services.append(
            ServiceOut(
                service_type=s.service_type,
                service_name=catalogue.name(s.service_type),
                service_code=service_type.iplos_code if service_type else "",
                outcome=s.outcome,
                scope_kind=kind,
                hours_per_month=hours.quantize(CENT),
                frame_min_hours=_cents(s.frame_min_hours),
                frame_max_hours=_cents(s.frame_max_hours),
                refusal_reason=s.refusal_reason,
                provider_org=s.provider_org or chosen.get(s.service_type),
                measures=resolved,
                copayment=builder.service_copayment(
                    catalogue, s.service_type, s.outcome, hours, body.household_income_g, body.start_date
                ),
            )
        )
    services.sort(key=lambda s: s.service_type)
    if body.legal_basis is not None:
        legal_basis = list(dict.fromkeys(body.legal_basis))
    else:
        legal_basis = builder.legal_basis_of(catalogue, (s.service_type for s in body.services))
    made_at = datetime.combine(body.decision_date, time(0), OSLO)
    return DecisionOut(
        id=prior.id if prior is not None else uuid.uuid4(),
        version=prior.version if prior is not None else 1,
        status=Status(prior.status) if prior is not None else Status.active,
        person_id=person_id,
        district=district.code,
        organisation_model=district.organisation_model,
        application_id=prior.application_id if prior is not None else None,
        assessment_id=prior.assessment_id if prior is not None else None,
        supersedes_id=prior.supersedes_id if prior is not None else None,
        justification=body.justification,
        purpose=body.purpose if body.purpose is not None else DEFAULT_PURPOSE,
        user_goal=body.user_goal,
        legal_basis=legal_basis,
        start_date=body.start_date,
        end_date=body.end_date,
        evaluation_date=body.evaluation_date,
        household_income_g=_cents(body.household_income_g),
        appeal_text=prior.appeal_text if prior is not None else None,
        appeal_deadline=prior.appeal_deadline if prior is not None else None,
        decision_date=body.decision_date,
        made_by=prior.made_by if prior is not None else principal.subject,
        made_at=prior.made_at if prior is not None else made_at,
        sent_at=prior.sent_at if prior is not None else None,
        activated_at=prior.activated_at if prior is not None else now,
        ended_at=None,
        end_reason=None,
        services=services,
    )


def _content(snap: dict[str, Any]) -> dict[str, Any]:
    """What the case system decides, from a snapshot: equal content means no change."""
    content = {k: v for k, v in snap.items() if k not in _BOOKKEEPING}
    content["services"] = {
        t: {k: v for k, v in s.items() if k not in _SERVICE_BOOKKEEPING} for t, s in snap["services"].items()
    }
    return content


# --- rows and events ----------------------------------------------------------------------


def _decision_row(
    out: DecisionOut, source_system: str, external_id: str, principal: Principal, now: datetime
) -> dict[str, Any]:
    return {
        "id": out.id,
        "version": out.version,
        "person_id": out.person_id,
        "district": out.district,
        "status": out.status.value,
        "application_id": None,
        "assessment_id": None,
        "supersedes_id": None,
        "organisation_model": out.organisation_model,
        "justification": out.justification,
        "purpose": out.purpose,
        "user_goal": out.user_goal,
        "legal_basis": out.legal_basis,
        "start_date": out.start_date,
        "end_date": out.end_date,
        "evaluation_date": out.evaluation_date,
        "household_income_g": out.household_income_g,
        "copayment": {s.service_type: s.copayment for s in out.services},
        "appeal_text": None,
        "appeal_deadline": None,
        "decision_date": out.decision_date,
        "made_by": out.made_by,
        "made_at": out.made_at,
        "sent_at": None,
        "activated_at": out.activated_at,
        "ended_at": None,
        "end_reason": None,
        "source_system": source_system,
        "external_id": external_id,
        "created_by": principal.subject,
        "created_at": now,
        "updated_at": now,
    }


def _service_rows(out: DecisionOut, plan: _Plan) -> None:
    for s in out.services:
        service_id = uuid.uuid4()
        plan.services.append(
            {
                "id": service_id,
                "decision_id": out.id,
                "service_type": s.service_type,
                "service_code": s.service_code,
                "outcome": s.outcome.value,
                "scope_kind": s.scope_kind.value,
                "hours_per_month": s.hours_per_month,
                "frame_min_hours": s.frame_min_hours,
                "frame_max_hours": s.frame_max_hours,
                "refusal_reason": s.refusal_reason,
                "provider_org": s.provider_org,
            }
        )
        plan.measures.extend(
            {
                "id": uuid.uuid4(),
                "decision_service_id": service_id,
                "position": i,
                "code": m.code,
                "description": m.description,
                "times": m.times,
                "per": m.per,
                "minutes": m.minutes,
            }
            for i, m in enumerate(s.measures)
        )


# --- the use case -------------------------------------------------------------------------


class _Batch:
    """One import request: what exists already, and the plan of every accepted item."""

    def __init__(
        self,
        ctx: ServiceContext,
        principal: Principal,
        catalogue: Catalogue,
        districts: dict[str, District],
        providers: dict[str, tuple[frozenset[str], frozenset[str]]],
    ) -> None:
        self.ctx = ctx
        self.principal = principal
        self.catalogue = catalogue
        self.districts = districts
        self.now = ctx.clock.now()
        self.today = ctx.clock.today()
        active = {c: t.iplos_code for c, t in catalogue.service_types.items() if t.active}
        self.rule_catalogues = {
            code: rules.CatalogueFacts(
                service_types=active,
                legal_basis=catalogue.legal_basis,
                providers=providers,
                district=code,
                measures=catalogue.active_measures,
            )
            for code in districts
        }
        self.by_key: dict[tuple[str, str], Any] = {}
        self.by_index: dict[str, Any] = {}
        self.decisions: dict[tuple[str, str], Decision] = {}

    def access(self, plan: _Plan, action: Action, resource: str, resource_id: uuid.UUID, system: str) -> None:
        plan.access.append(
            {
                "at": self.now,
                "actor": self.principal.subject,
                "role": self.principal.role.value,
                "organisation": self.principal.provider_org,
                "action": action.value,
                "resource": resource,
                "resource_id": str(resource_id),
                "person_id": plan.person_id,
                "purpose": f"import from {system}",
                "trace_id": None,
            }
        )

    def plan(self, body: PersonImportIn, who: _Person) -> _Plan:
        """What the item writes, or `_Rejected` naming everything wrong with it."""
        district = self.districts.get(body.district)
        if district is None:
            raise _Rejected(RuleViolation(f"Unknown district {body.district!r}.", slug="unknown-district"))
        current = self.by_key.get((body.source_system, body.external_id))
        owner = self.by_index.get(who.index)
        linking = False
        if current is None and owner is not None:
            if owner.source_system is not None:
                raise _Rejected(
                    Conflict(
                        f"This identity number belongs to a person imported from {owner.source_system}"
                        " under another id.",
                        slug="identity-number-conflict",
                    )
                )
            current, linking = owner, True  # registered in hjemflyt before: adopt the case system's keys
        elif current is not None and owner is not None and owner.id != current.id:
            raise _Rejected(
                Conflict(
                    "Another person in hjemflyt has this identity number.", slug="identity-number-conflict"
                )
            )
        plan = _Plan(person_id=current.id if current is not None else uuid.uuid4())
        values: dict[str, Any] = {
            "name": body.name,
            "address": body.address,
            "phone": body.phone,
            "district": body.district,
        }
        if current is None:
            plan.person_insert = {
                "id": plan.person_id,
                "identity_index": who.index,
                "identity_cipher": self.ctx.cipher.encrypt(who.number),
                "identity_kind": who.kind,
                "synthetic": who.synthetic,
                **values,
                "created_at": self.now,
                "created_by": self.principal.subject,
                "email": None,
                "next_of_kin": [],
                "source_system": body.source_system,
                "external_id": body.external_id,
            }
            self.access(plan, Action.create, "person", plan.person_id, body.source_system)
        else:
            renumbered = current.identity_index != who.index
            if linking or renumbered or any(getattr(current, k) != v for k, v in values.items()):
                plan.person_update = {
                    "id": plan.person_id,
                    **values,
                    "identity_index": who.index,
                    "identity_cipher": self.ctx.cipher.encrypt(who.number) if renumbered else None,
                    "identity_kind": who.kind,
                    "synthetic": who.synthetic,
                    "source_system": body.source_system,
                    "external_id": body.external_id,
                }
                self.access(plan, Action.update, "person", plan.person_id, body.source_system)

        recipient = OrderRecipient(
            identity_number=who.number, name=body.name, address=body.address, phone=body.phone
        )
        violations: list[rules.Violation] = []
        conflicts: list[str] = []
        staged: list[tuple[DecisionImportIn, Decision | None, DecisionOut]] = []
        for j, d in enumerate(body.decisions):
            where = f"decisions[{j}]"
            prior = self.decisions.get((body.source_system, d.external_id))
            if prior is not None and (current is None or prior.person_id != current.id):
                conflicts.append(f"{where}: decision {d.external_id!r} is imported for another person")
                continue
            if prior is not None and Status(prior.status) not in RUNNING:
                conflicts.append(f"{where}: decision {d.external_id!r} has ended in hjemflyt")
                continue
            out = _proposed(d, prior, plan.person_id, district, self.catalogue, self.principal, self.now)
            for v in rules.check_complete(facts(out), self.rule_catalogues[district.code]):
                field_ = f"{where}.{v.field}" if v.field else where
                violations.append(rules.Violation(v.rule, v.message, field_))
            if d.decision_date > self.today:
                violations.append(
                    rules.Violation(
                        "decision-date-in-future",
                        "An imported decision was made in the case system: its date cannot be in the future.",
                        f"{where}.decision_date",
                    )
                )
            staged.append((d, prior, out))
        if conflicts:
            raise _Rejected(
                Conflict("; ".join(conflicts) + ". Nothing of the item was stored.", slug="decision-conflict")
            )
        if violations:
            raise _Rejected(_rule_problem(violations))

        for d, prior, out in staged:
            if prior is None:
                self._create(plan, body, d, out, recipient, district)
            else:
                self._amend(plan, body, d, prior, out, recipient, district)
        return plan

    def age_band(self, recipient: OrderRecipient, out: DecisionOut) -> AgeBand | None:
        month40 = self.ctx.settings.identity_month40
        return person_age_band(recipient.identity_number, out.decision_date, month40)

    def _version(self, plan: _Plan, out: DecisionOut, action: str, changes: list[dict[str, Any]]) -> None:
        after = snapshot(out)
        plan.versions.append(
            builder.version_row(out, action, changes, after, by=self.principal.subject, at=self.now)
        )

    def _create(
        self,
        plan: _Plan,
        body: PersonImportIn,
        d: DecisionImportIn,
        out: DecisionOut,
        recipient: OrderRecipient,
        district: District,
    ) -> None:
        assert out.decision_date is not None
        assert out.start_date is not None
        assert out.made_at is not None
        plan.decision_inserts.append(
            _decision_row(out, body.source_system, d.external_id, self.principal, self.now)
        )
        _service_rows(out, plan)
        self._version(plan, out, "imported", [])
        plan.events.extend(
            builder.made_events(
                out,
                recipient,
                self.age_band(recipient, out),
                case_office=district.case_office,
                issued_at=self.now,
            )
        )
        self.access(plan, Action.create, "decision", out.id, body.source_system)
        plan.decisions.append(
            DecisionResult(
                external_id=d.external_id, status=ItemOutcome.created, decision_id=out.id, version=out.version
            )
        )

    def _amend(
        self,
        plan: _Plan,
        body: PersonImportIn,
        d: DecisionImportIn,
        prior: Decision,
        out: DecisionOut,
        recipient: OrderRecipient,
        district: District,
    ) -> None:
        before_out = to_out(prior, self.catalogue)
        before = snapshot(before_out)
        after = snapshot(out)
        if _content(before) == _content(after):
            plan.decisions.append(
                DecisionResult(
                    external_id=d.external_id,
                    status=ItemOutcome.unchanged,
                    decision_id=prior.id,
                    version=prior.version,
                )
            )
            return
        out = out.model_copy(update={"version": prior.version + 1})
        assert out.start_date is not None
        changes = rules.changes(before, after)
        row = _decision_row(out, body.source_system, d.external_id, self.principal, self.now)
        plan.decision_updates.append({"id": out.id} | {k: row[k] for k in _AMENDED_COLUMNS})
        _service_rows(out, plan)
        self._version(plan, out, "amended", changes)
        plan.events.append(
            builder.amended_event(
                out, sorted({c["field"] for c in changes}), self.age_band(recipient, out), at=self.now
            )
        )
        # A provider that left stops today, the day the case system's change came in.
        plan.events.extend(
            orders.amended_orders(
                before_out,
                out,
                recipient,
                end_date=self.today,
                case_office=district.case_office,
                issued_at=self.now,
            )
        )
        self.access(plan, Action.update, "decision", out.id, body.source_system)
        plan.decisions.append(
            DecisionResult(
                external_id=d.external_id, status=ItemOutcome.updated, decision_id=out.id, version=out.version
            )
        )


def _first_duplicate(
    body: PersonImportIn,
    who: _Person,
    keys: set[tuple[str, str]],
    indexes: set[str],
    decision_keys: set[tuple[str, str]],
) -> str | None:
    """Why this item repeats an earlier one of the batch (None if it does not); remembers its keys."""
    key = (body.source_system, body.external_id)
    own = [(body.source_system, d.external_id) for d in body.decisions]
    if key in keys:
        return f"person {body.external_id!r} of {body.source_system} comes twice in the batch"
    if who.index in indexes:
        return "the identity number comes twice in the batch"
    if len(set(own)) != len(own) or decision_keys.intersection(own):
        return "a decision's external_id comes twice in the batch"
    keys.add(key)
    indexes.add(who.index)
    decision_keys.update(own)
    return None


async def import_persons(
    ctx: ServiceContext, session: AsyncSession, principal: Principal, raw_items: Sequence[Any]
) -> ImportResult:
    results: list[ItemResult | None] = [None] * len(raw_items)

    def reject(i: int, problem: dict[str, Any], system: str | None, external: str | None) -> None:
        results[i] = ItemResult(
            index=i, source_system=system, external_id=external, status=ItemOutcome.rejected, problem=problem
        )

    # 1. Each item on its own: schema, identity number, repeats within the batch.
    candidates: list[tuple[int, PersonImportIn, _Person]] = []
    keys: set[tuple[str, str]] = set()
    indexes: set[str] = set()
    decision_keys: set[tuple[str, str]] = set()
    for i, raw in enumerate(raw_items):
        try:
            body = raw if isinstance(raw, PersonImportIn) else PersonImportIn.model_validate(raw)
        except ValidationError as exc:
            reject(i, _schema_problem(exc), *_key_of(raw))
            continue
        try:
            number, kind, synthetic = normalised_identity(body.identity_number, today=ctx.clock.today())
        except RuleViolation as exc:
            reject(i, exc.body(), body.source_system, body.external_id)
            continue
        who = _Person(number, kind, synthetic, ctx.cipher.index(number))
        repeated = _first_duplicate(body, who, keys, indexes, decision_keys)
        if repeated is not None:
            problem = Conflict(repeated + "; send each once.", slug="duplicate-in-batch")
            reject(i, problem.body(), body.source_system, body.external_id)
            continue
        candidates.append((i, body, who))

    # 2. The configuration and what exists already, in a few set-based reads.
    plans: dict[int, _Plan] = {}
    if candidates:
        repo = ImportRepository(session, ctx.tables)
        systems = {b.source_system for _, b, _ in candidates}
        await repo.lock_source_systems(systems)
        persons = await repo.persons(systems, {b.external_id for _, b, _ in candidates}, indexes)
        decisions = await repo.decisions(systems, {e for _, e in decision_keys})
        # Providers named in the batch, and those chosen earlier that an amendment keeps.
        orgs = {s.provider_org for _, b, _ in candidates for d in b.decisions for s in d.services}
        orgs |= {s.provider_org for d in decisions for s in d.services}
        approved = await ProviderRepository(session).get_many({o for o in orgs if o})
        batch = _Batch(
            ctx,
            principal,
            await Catalogue.load(ctx, session),
            {d.code: d for d in await DistrictRepository(session).list()},
            {o: (frozenset(p.service_codes), frozenset(p.districts)) for o, p in approved.items()},
        )
        for row in persons:
            if row.source_system is not None and row.external_id is not None:
                batch.by_key[(row.source_system, row.external_id)] = row
            batch.by_index[row.identity_index] = row
        batch.decisions = {(d.source_system or "", d.external_id or ""): d for d in decisions}

        # 3. Plan every item; a rejected one plans nothing.
        for i, body, who in candidates:
            try:
                plans[i] = batch.plan(body, who)
            except _Rejected as rejected:
                reject(i, rejected.problem.body(), body.source_system, body.external_id)

        # 4. Write the accepted items, one statement per table.
        try:
            await _write(ctx, session, repo, plans, candidates, reject)
        except IntegrityError as exc:
            raise Conflict(
                "A concurrent change touched the same persons; nothing of the batch was stored."
                " Send it again.",
                slug="import-conflict",
            ) from exc

    by_index = {i: body for i, body, _ in candidates}
    for i, plan in plans.items():
        body = by_index[i]
        if plan.person_insert is not None:
            status = ItemOutcome.created
        elif plan.changed:
            status = ItemOutcome.updated
        else:
            status = ItemOutcome.unchanged
        results[i] = ItemResult(
            index=i,
            source_system=body.source_system,
            external_id=body.external_id,
            status=status,
            person_id=plan.person_id,
            decisions=plan.decisions,
        )
    items = [r for r in results if r is not None]
    counts = {o: 0 for o in ItemOutcome}
    for r in items:
        counts[r.status] += 1
    return ImportResult(
        created=counts[ItemOutcome.created],
        updated=counts[ItemOutcome.updated],
        unchanged=counts[ItemOutcome.unchanged],
        rejected=counts[ItemOutcome.rejected],
        items=items,
    )


async def _write(
    ctx: ServiceContext,
    session: AsyncSession,
    repo: ImportRepository,
    plans: dict[int, _Plan],
    candidates: list[tuple[int, PersonImportIn, _Person]],
    reject: Callable[[int, dict[str, Any], str | None, str | None], None],
) -> None:
    inserted = await repo.insert_persons([p.person_insert for p in plans.values() if p.person_insert])
    keys = {i: (body.source_system, body.external_id) for i, body, _ in candidates}
    for i, plan in list(plans.items()):
        if plan.person_insert is not None and plan.person_id not in inserted:
            # The identity number was registered outside the import since we looked.
            del plans[i]
            problem = Conflict(
                "A person with this identity number was registered meanwhile; send the item again.",
                slug="identity-number-conflict",
            )
            reject(i, problem.body(), *keys[i])
    accepted = list(plans.values())
    updates = [p.person_update for p in accepted if p.person_update]
    # Only a renumbered person gets a new cipher text; the others keep theirs.
    await repo.update_persons([u for u in updates if u["identity_cipher"] is not None])
    await repo.update_persons(
        [
            {k: v for k, v in u.items() if k != "identity_cipher"}
            for u in updates
            if u["identity_cipher"] is None
        ]
    )
    await repo.update_decisions([row for p in accepted for row in p.decision_updates])
    await repo.insert_decisions(
        [row for p in accepted for row in p.decision_inserts],
        [row for p in accepted for row in p.services],
        [row for p in accepted for row in p.measures],
    )
    await repo.insert_versions([row for p in accepted for row in p.versions])
    await ctx.outbox.add_many(session, [e for p in accepted for e in p.events])
    await repo.insert_access_log([row for p in accepted for row in p.access])
