"""The yearly IPLOS report for a municipality of 20,000 persons with a year of decisions,
function scores and appeals: `POST /v1/iplos/{year}/report` through the assessment app
in-process (ASGI, JWT, JSON; no network hop), with the steps inside it timed apart (the
reads, the pure rules, writing the content file, validating it against the schema), and
beside them ONE SQL query reading the same rows (persons with their decisions, services,
assessments and appeals, as JSON per person) through plain asyncpg.

    uv run python -m bench.iplos            # (make bench-iplos)
    uv run python -m bench.iplos --help     # sizes, repeats

Starts only PostgreSQL and NATS (fresh data folder `.hjemflyt/bench-iplos`), migrates the
assessment schema and writes synthetic rows straight into it with COPY (identity numbers
synthetic, encrypted with the app's own key). Prints figures and writes them to
bench/results/iplos-<timestamp>.json. Never asserts a timing: the target (within 3x the
query) is printed beside the figures, for people to judge.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.results_file import on_fresh_infrastructure, run_facts, write_results
from bench.simulation import timed
from bench.skeleton import ROOT, say
from hjemflyt.assessment.iplos import register, rules
from hjemflyt.assessment.iplos.repository import IplosRepository
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.contracts.iplos import code_list
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Principal, Role
from hjemflyt.shared.platform.crypto import FieldCipher

TARGET_FACTOR = 3
YEAR = 2026
JSON = dict[str, Any]
DISTRICTS = list(rules.OSLO_DISTRICT_NUMBERS)
SERVICES = [("home-nursing", "15"), ("practical-help", "1"), ("safety-alarm", "6"), ("personal-care", "1")]
CONTACTS = [
    {"kind": "1", "name": "Bench", "phone": "00000000", "email": "bench@example.invalid"},
    {"kind": "2", "name": "Bench", "phone": "00000000", "email": "bench@example.invalid"},
]


@dataclass(frozen=True)
class Config:
    persons: int = 20_000
    repeats: int = 5
    seed: int = 2026
    data_dir: Path = ROOT / ".hjemflyt" / "bench-iplos"


def parse_args(argv: list[str] | None) -> Config:
    d = Config()
    p = argparse.ArgumentParser(prog="python -m bench.iplos", description=__doc__.split("\n\n")[0])
    p.add_argument("--persons", type=int, default=d.persons)
    p.add_argument(
        "--repeats", type=int, default=d.repeats, help="timed runs of each step (after one warm-up)"
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--data-dir", type=Path, default=d.data_dir, help="deleted at start")
    a = p.parse_args(argv)
    return Config(persons=a.persons, repeats=a.repeats, seed=a.seed, data_dir=a.data_dir.resolve())


# ONE statement: the recipients of the year (a made decision in force), and per person its
# identity cipher, district, made decisions with their services, completed assessments and
# appeals as JSON arrays: the same rows the report reads.
QUERY = """
with r as (
    select distinct d.person_id from assessment.decision d
    where d.status in ('made', 'sent', 'active', 'ended')
      and coalesce(d.start_date, d.decision_date) <= $2 and (d.end_date is null or d.end_date >= $1)
)
select p.id, p.identity_cipher, p.district,
    (select json_agg(json_build_object('id', d.id, 'decided', d.decision_date, 'start', d.start_date,
            'end', d.end_date, 'services', (select json_agg(json_build_object('type', s.service_type,
            'code', s.service_code, 'outcome', s.outcome, 'hours', s.hours_per_month))
            from assessment.decision_service s where s.decision_id = d.id)))
     from assessment.decision d
     where d.person_id = p.id and d.status in ('made', 'sent', 'active', 'ended')) as decisions,
    (select json_agg(json_build_object('on', a.visit_date, 'scores', a.scores))
     from assessment.assessment a where a.person_id = p.id and a.status = 'completed') as assessments,
    (select json_agg(json_build_object('decision', ap.decision_id, 'received', ap.received_date,
            'answered', coalesce(ap.final_date, ap.municipality_decided_date)))
     from assessment.appeal ap where ap.person_id = p.id) as appeals
from r join assessment.person p on p.id = r.person_id
"""


async def load(pg: asyncpg.Connection, cfg: Config, cipher: FieldCipher) -> JSON:
    start = time.perf_counter()
    rng = random.Random(cfg.seed)
    now = datetime.now(UTC)
    await pg.executemany(
        "insert into assessment.district (code, name, organisation_model, case_office)"
        " values ($1, $2, $3, $4)",
        [(d, d, "trust_model", f"Tildeling {d}") for d in DISTRICTS],
    )
    persons, decisions, services, assessments, appeals = [], [], [], [], []
    keys = code_list().keys
    first = date(YEAR, 1, 1)
    for n, number in enumerate(synthetic_identity_numbers(cfg.persons, seed=cfg.seed)):
        pid = uuid.UUID(int=n + 1)
        district = DISTRICTS[n % len(DISTRICTS)]
        persons.append(
            (pid, cipher.index(number), cipher.encrypt(number), "birth_number", True, f"P {n}", "Gata 1",
             district, now, "bench", "[]")
        )  # fmt: skip
        # one to three decisions over the year, the earlier ones ended by the later
        count = rng.choice([1, 1, 2, 3])
        starts = sorted(
            first - timedelta(days=60) + timedelta(days=rng.randint(0, 400)) for _ in range(count)
        )
        for i, s in enumerate(starts):
            did = uuid.uuid4()
            end = starts[i + 1] - timedelta(days=1) if i + 1 < count else None
            decided = s - timedelta(days=rng.randint(0, 14))
            decisions.append(
                (did, 1, pid, district, "ended" if end else "active", [], s, end, decided,
                 decided + timedelta(days=28), "bench",
                 now, now)
            )  # fmt: skip
            for stype, code in rng.sample(SERVICES, rng.randint(1, 3)):
                hours = (
                    None if code == "6" else Decimal(rng.randint(2, 90)) + Decimal(rng.choice(["0", "0.5"]))
                )
                services.append(
                    (uuid.uuid4(), did, stype, code, "granted", "hours_per_month", hours or Decimal(0))
                )
            if rng.random() < 0.03:
                received = decided + timedelta(days=rng.randint(1, 28))
                appeals.append(
                    (uuid.uuid4(), did, pid, district, received, received, False, "bench", "closed",
                     "changed", received + timedelta(days=20), 1, "bench", now)
                )  # fmt: skip
        # one or two completed assessments; every 50th person none
        if n % 50:
            for _ in range(rng.choice([1, 1, 2])):
                on = first - timedelta(days=90) + timedelta(days=rng.randint(0, 400))
                scores = json.dumps({k: rng.choice([1, 2, 3, 4, 5, 9]) for k in keys})
                assessments.append(
                    (uuid.uuid4(), pid, district, on, "[]", "2018", scores, "completed", 1, "bench", now, now)
                )
    copy = pg.copy_records_to_table
    await copy("person", schema_name="assessment", records=persons, columns=[
        "id", "identity_index", "identity_cipher", "identity_kind", "synthetic", "name", "address",
        "district", "created_at", "created_by", "next_of_kin"])  # fmt: skip
    await copy("decision", schema_name="assessment", records=decisions, columns=[
        "id", "version", "person_id", "district", "status", "legal_basis", "start_date", "end_date",
        "decision_date", "appeal_deadline", "created_by", "created_at", "updated_at"])  # fmt: skip
    await copy("decision_service", schema_name="assessment", records=services, columns=[
        "id", "decision_id", "service_type", "service_code", "outcome", "scope_kind",
        "hours_per_month"])  # fmt: skip
    await copy("assessment", schema_name="assessment", records=assessments, columns=[
        "id", "person_id", "district", "visit_date", "participants", "iplos_version", "scores", "status",
        "version", "created_by", "created_at", "completed_at"])  # fmt: skip
    await copy("appeal", schema_name="assessment", records=appeals, columns=[
        "id", "decision_id", "person_id", "district", "received_date", "deadline_date", "late", "grounds",
        "status", "municipality_outcome", "municipality_decided_date", "version", "registered_by",
        "created_at"])  # fmt: skip
    for table in ("person", "decision", "decision_service", "assessment", "appeal"):
        await pg.execute(f"analyze assessment.{table}")
    return {
        "persons": len(persons),
        "decisions": len(decisions),
        "decision_services": len(services),
        "assessments": len(assessments),
        "appeals": len(appeals),
        "load_seconds": round(time.perf_counter() - start, 2),
    }


async def run(stack: Any, cfg: Config) -> JSON:
    dsn = stack.database_url.replace("postgresql+asyncpg://", "postgresql://")
    settings = stack.settings.model_copy(
        update={
            "database_url": stack.database_url,
            "nats_url": stack.nats_url,
            "jwt_jwks_file": stack.issuer.jwks_file,
        }
    )
    cipher = FieldCipher(settings.pii_key.get_secret_value(), settings.pii_index_key.get_secret_value())
    pg = await asyncpg.connect(dsn)
    out: JSON = {}
    try:
        say(f"writing {cfg.persons:,} persons with a year of decisions, scores and appeals")
        out["rows"] = await load(pg, cfg, cipher)
        app = create_app(settings)
        headers = {"Authorization": f"Bearer {stack.issuer.token(role=Role.integration)}"}
        async with app.router.lifespan_context(app):
            ctx = app.state.ctx
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://assessment", timeout=600
            ) as client:

                async def report() -> JSON:
                    r = await client.post(
                        f"/v1/iplos/{YEAR}/report", json={"contacts": CONTACTS}, headers=headers
                    )
                    r.raise_for_status()
                    return dict(r.json())

                async def completeness() -> JSON:
                    r = await client.get(f"/v1/iplos/{YEAR}/completeness", headers=headers)
                    r.raise_for_status()
                    return dict(r.json())

                say(f"timing POST /v1/iplos/{YEAR}/report and GET .../completeness (in-process ASGI)")
                out["api_report"], produced = await timed(cfg.repeats, report)
                out["api_completeness"], _ = await timed(cfg.repeats, completeness)

            everyone = Principal("bench", Role.integration, settings.tenant, all_districts=True)

            async def reads() -> Any:
                async with ctx.sessionmaker() as session:
                    return await IplosRepository(session).facts(everyone, YEAR, ctx.cipher.decrypt)

            say("timing the steps inside: the reads, the pure rules, the file, the schema")
            out["reads"], facts = await timed(cfg.repeats, reads)
            sender = rules.Sender(
                municipality=settings.tenant,
                contacts=tuple(rules.Contact(c["kind"], c["name"], c["phone"], c["email"]) for c in CONTACTS),
            )

            async def pure() -> rules.Report:
                return rules.build_report(YEAR, sender, *facts)

            out["pure_rules"], built = await timed(cfg.repeats, pure)

            async def write() -> bytes:
                return register.content_file(built, sender, made_on=date(YEAR + 1, 1, 5), serial="1")

            out["content_file"], content = await timed(cfg.repeats, write)

            async def validate() -> list[str]:
                return register.schema_errors(content, limit=1)

            out["schema_validation"], errors = await timed(max(1, cfg.repeats // 2), validate)
            out["schema_errors"] = errors

        say("timing ONE SQL query reading the same rows (raw asyncpg)")

        async def query() -> list[asyncpg.Record]:
            return list(await pg.fetch(QUERY, date(YEAR, 1, 1), date(YEAR, 12, 31)))

        out["raw_sql_query"], rows = await timed(cfg.repeats, query)
        out["sql_persons"] = len(rows)
        out["figures"] = produced["figures"]
        out["content_bytes"] = len(produced["content_file"].encode())
        out["identity_bytes"] = len(produced["identity_file"].encode())
        out["problems"] = {
            "persons_with_problems": len(produced["completeness"]["persons"]),
            "delivery": [p["rule"] for p in produced["completeness"]["delivery_problems"]],
        }
        out["same_persons"] = len(rows) == produced["figures"]["persons"]
        out["factor"] = round(out["api_report"]["median_ms"] / out["raw_sql_query"]["median_ms"], 2)
    finally:
        await pg.close()
    return out


def print_report(cfg: Config, out: JSON) -> None:
    def row(label: str, s: JSON) -> str:
        return (
            f"  {label:<50}{s['median_ms']:>9.1f} ms median   min {s['min_ms']:.1f}   "
            f"p90 {s['p90_ms']:.1f}   max {s['max_ms']:.1f}"
        )

    f = out["figures"]
    lines = [
        "",
        f"IPLOS {YEAR} for {out['rows']['persons']:,} persons ({out['rows']['decisions']:,} decisions, "
        f"{out['rows']['decision_services']:,} services, {out['rows']['assessments']:,} assessments, "
        f"{out['rows']['appeals']:,} appeals), {cfg.repeats} runs each after a warm-up; "
        f"target <= {TARGET_FACTOR}x the query",
        row(f"POST /v1/iplos/{YEAR}/report (in-process ASGI)", out["api_report"]),
        row(f"GET /v1/iplos/{YEAR}/completeness", out["api_completeness"]),
        row("  inside: the reads (4 queries, decrypting)", out["reads"]),
        row("  inside: pure rules", out["pure_rules"]),
        row("  inside: writing the content file", out["content_file"]),
        row("  inside: validating it against the schema", out["schema_validation"]),
        row("raw: ONE SQL query, same rows (asyncpg)", out["raw_sql_query"]),
        f"  report / query: {out['factor']}x; same persons both ways: {out['same_persons']}",
        f"  file: {f['persons']:,} persons, {f['services']:,} services, {f['hours_per_week']} hours/week; "
        f"content {out['content_bytes'] / 1e6:.1f} MB, identity {out['identity_bytes'] / 1e6:.1f} MB; "
        f"schema errors {out['schema_errors']}",
        f"  completeness: {out['problems']}",
        "",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    facts = run_facts()
    out = on_fresh_infrastructure("assessment", cfg.data_dir, lambda stack: run(stack, cfg))
    print_report(cfg, out)
    write_results("iplos", {"config": {**asdict(cfg), "data_dir": str(cfg.data_dir)}, **facts, **out})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
