"""One import request in memory: what exists already, and the plan of every item (what it
writes, or why it is rejected), checked with the rules of decisions before anything is written."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from hjemflyt.assessment.decisions import builder, rules
from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.decisions.events import person_age_band
from hjemflyt.assessment.decisions.models import Decision
from hjemflyt.assessment.decisions.rules import RUNNING, Status
from hjemflyt.assessment.decisions.schemas import DecisionOut
from hjemflyt.assessment.decisions.views import facts, snapshot, to_out
from hjemflyt.assessment.districts.models import District
from hjemflyt.assessment.imports.proposal import (
    AMENDED_COLUMNS,
    content_of,
    decision_row,
    proposed,
    service_rows,
)
from hjemflyt.assessment.imports.schemas import DecisionImportIn, DecisionResult, PersonImportIn
from hjemflyt.assessment.imports.schemas import Outcome as ItemOutcome
from hjemflyt.assessment.orders import rules as orders
from hjemflyt.shared.contracts.events import AgeBand, OrderRecipient
from hjemflyt.shared.contracts.registry import EventType
from hjemflyt.shared.platform.audit import Action
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Problem, RuleViolation

Event = tuple[EventType[Any], BaseModel, str]


# --- the working state of one item --------------------------------------------------------


@dataclass
class Identity:
    number: str
    kind: str
    synthetic: bool
    index: str


@dataclass
class Plan:
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


class Rejected(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def _rule_problem(violations: Sequence[rules.Violation]) -> RuleViolation:
    broken = sorted({v.rule for v in violations})
    return RuleViolation(
        "The item breaks these rules: " + ", ".join(broken) + ". Nothing of it was stored.",
        slug=broken[0] if len(broken) == 1 else "decision-incomplete",
        missing=[{"rule": v.rule, "message": v.message, "field": v.field} for v in violations],
    )


# --- the batch ----------------------------------------------------------------------------


class Batch:
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

    def access(self, plan: Plan, action: Action, resource: str, resource_id: uuid.UUID, system: str) -> None:
        # The platform's row (reader's districts, a purpose the caller states wins), written
        # with the batch's COPY.
        plan.access.append(
            self.ctx.access_log.entry(
                self.principal,
                action=action,
                resource=resource,
                person_id=plan.person_id,
                purpose=f"import from {system}",
                resource_id=str(resource_id),
            )
        )

    def plan(self, body: PersonImportIn, who: Identity) -> Plan:
        """What the item writes, or `Rejected` naming everything wrong with it."""
        district = self.districts.get(body.district)
        if district is None:
            raise Rejected(RuleViolation(f"Unknown district {body.district!r}.", slug="unknown-district"))
        current = self.by_key.get((body.source_system, body.external_id))
        owner = self.by_index.get(who.index)
        linking = False
        if current is None and owner is not None:
            if owner.source_system is not None:
                raise Rejected(
                    Conflict(
                        f"This identity number belongs to a person imported from {owner.source_system}"
                        " under another id.",
                        slug="identity-number-conflict",
                    )
                )
            current, linking = owner, True  # registered in hjemflyt before: adopt the case system's keys
        elif current is not None and owner is not None and owner.id != current.id:
            raise Rejected(
                Conflict(
                    "Another person in hjemflyt has this identity number.", slug="identity-number-conflict"
                )
            )
        plan = Plan(person_id=current.id if current is not None else uuid.uuid4())
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
            out = proposed(d, prior, plan.person_id, district, self.catalogue, self.principal, self.now)
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
            raise Rejected(
                Conflict("; ".join(conflicts) + ". Nothing of the item was stored.", slug="decision-conflict")
            )
        if violations:
            raise Rejected(_rule_problem(violations))

        for d, prior, out in staged:
            if prior is None:
                self._create(plan, body, d, out, recipient, district)
            else:
                self._amend(plan, body, d, prior, out, recipient, district)
        return plan

    def age_band(self, recipient: OrderRecipient, out: DecisionOut) -> AgeBand | None:
        month40 = self.ctx.settings.identity_month40
        return person_age_band(recipient.identity_number, out.decision_date, month40)

    def _version(self, plan: Plan, out: DecisionOut, action: str, changes: list[dict[str, Any]]) -> None:
        after = snapshot(out)
        plan.versions.append(
            builder.version_row(out, action, changes, after, by=self.principal.subject, at=self.now)
        )

    def _create(
        self,
        plan: Plan,
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
            decision_row(out, body.source_system, d.external_id, self.principal, self.now)
        )
        services, measures = service_rows(out)
        plan.services.extend(services)
        plan.measures.extend(measures)
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
        plan: Plan,
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
        if content_of(before) == content_of(after):
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
        row = decision_row(out, body.source_system, d.external_id, self.principal, self.now)
        plan.decision_updates.append({"id": out.id} | {k: row[k] for k in AMENDED_COLUMNS})
        services, measures = service_rows(out)
        plan.services.extend(services)
        plan.measures.extend(measures)
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
