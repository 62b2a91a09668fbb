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

from collections.abc import Callable, Sequence
from typing import Any

import pydantic_core
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.assessment.decisions.catalogue import Catalogue
from hjemflyt.assessment.districts.repository import DistrictRepository
from hjemflyt.assessment.imports.batch import Batch, Identity, Plan, Rejected
from hjemflyt.assessment.imports.repository import ImportRepository
from hjemflyt.assessment.imports.schemas import ImportResult, ItemResult, PersonImportIn
from hjemflyt.assessment.imports.schemas import Outcome as ItemOutcome
from hjemflyt.assessment.persons.service import normalised_identity
from hjemflyt.assessment.providers.repository import ProviderRepository
from hjemflyt.shared.platform.auth import Principal
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.errors import Conflict, Problem, RuleViolation

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


def _key_of(raw: Any) -> tuple[str | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    system, external = raw.get("source_system"), raw.get("external_id")
    return (system if isinstance(system, str) else None, external if isinstance(external, str) else None)


def _first_duplicate(
    body: PersonImportIn,
    who: Identity,
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
    candidates: list[tuple[int, PersonImportIn, Identity]] = []
    keys: set[tuple[str, str]] = set()
    indexes: set[str] = set()
    decision_keys: set[tuple[str, str]] = set()
    for i, raw in enumerate(raw_items):
        try:
            # As JSON in strict mode, as the endpoint reads a whole batch: what the schema states.
            body = (
                raw
                if isinstance(raw, PersonImportIn)
                else PersonImportIn.model_validate_json(pydantic_core.to_json(raw), strict=True)
            )
        except ValidationError as exc:
            reject(i, _schema_problem(exc), *_key_of(raw))
            continue
        try:
            number, kind, synthetic = normalised_identity(body.identity_number, today=ctx.clock.today())
        except RuleViolation as exc:
            reject(i, exc.body(), body.source_system, body.external_id)
            continue
        who = Identity(number, kind, synthetic, ctx.cipher.index(number))
        repeated = _first_duplicate(body, who, keys, indexes, decision_keys)
        if repeated is not None:
            problem = Conflict(repeated + "; send each once.", slug="duplicate-in-batch")
            reject(i, problem.body(), body.source_system, body.external_id)
            continue
        candidates.append((i, body, who))

    # 2. The configuration and what exists already, in a few set-based reads.
    plans: dict[int, Plan] = {}
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
        batch = Batch(
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
            except Rejected as rejected:
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
    plans: dict[int, Plan],
    candidates: list[tuple[int, PersonImportIn, Identity]],
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
