"""Where assessment spends its CPU: cProfile of a throwaway in-process app (no uvicorn; the
client is httpx's ASGI transport, whose own share is shown apart) on embedded PostgreSQL
and NATS, for POST /v1/decisions (make=true) or POST /v1/imports/persons.

    uv run python -m bench.profile_assessment decisions --count 500 --concurrency 16
    uv run python -m bench.profile_assessment import --count 5000 --batch-size 1000

Prints the CPU by package and the functions with the most own time. py-spy is not
installed here; cProfile slows Python code down (about 1.5-2x), so read shares, not times.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from bench.api import DISTRICT, PROVIDER_A, decision_maker, expect
from bench.assessment import announce_providers, batches, import_items
from bench.skeleton import ROOT, say
from bench.stats import run_closed_loop
from hjemflyt.assessment.main import create_app
from hjemflyt.shared.devstack import DevStack
from hjemflyt.shared.identity import synthetic_identity_numbers
from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.settings import Environment, Settings

DATA_DIR = ROOT / ".hjemflyt" / "bench-profile"

GROUPS = (
    ("bench client (httpx, its ASGI transport)", ("/httpx/", "/httpcore/", "/bench/")),
    ("sqlalchemy", ("/sqlalchemy/",)),
    ("asyncpg", ("/asyncpg/",)),
    ("fastapi", ("/fastapi/",)),
    ("starlette", ("/starlette/",)),
    ("pydantic", ("/pydantic/", "/pydantic_core/")),
    ("jwt / cryptography", ("/jwt/", "/cryptography/")),
    ("anyio", ("/anyio/",)),
    ("nats", ("/nats/",)),
    ("hjemflyt platform", ("/hjemflyt/shared/",)),
    ("hjemflyt assessment", ("/hjemflyt/assessment/",)),
    ("asyncio / uvloop", ("/asyncio/", "uvloop")),
    ("json", ("/json/",)),
    ("uuid", ("/uuid.py",)),
    ("enum / typing / dataclasses", ("/enum.py", "/typing.py", "/dataclasses.py")),
)


def group_of(filename: str) -> str:
    for name, needles in GROUPS:
        if any(n in filename for n in needles):
            return name
    if filename.startswith("~") or filename == "~":
        return "builtins (C)"
    return "other"


def report(profile: cProfile.Profile, units: int, unit: str, top: int) -> None:
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values())
    by_group: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, tottime, _, _) in raw.items():
        by_group[group_of(filename)] += tottime
    say(
        f"CPU under the profiler: {total:.2f} s for {units} {unit}s"
        f" = {1000 * total / max(units, 1):.2f} ms each"
    )
    say("By package (own time):")
    for name, seconds in sorted(by_group.items(), key=lambda kv: -kv[1]):
        say(
            f"  {name:<42} {100 * seconds / total:5.1f}%  {1000 * seconds / max(units, 1):6.2f} ms per {unit}"
        )
    say(f"Top {top} functions by own time:")
    ranked = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    for (filename, line, func), (_, nc, tottime, _, _) in ranked:
        where = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        say(
            f"  {100 * tottime / total:5.1f}%  {nc / max(units, 1):7.1f} calls/{unit}"
            f"  {func}  ({where}:{line})"
        )
    say("Top functions by cumulative time (hjemflyt code):")
    ours = [kv for kv in raw.items() if "/hjemflyt/" in kv[0][0]]
    for (filename, line, func), (_, nc, _, cumtime, _) in sorted(ours, key=lambda kv: -kv[1][3])[:top]:
        where = filename.split("/work/main/")[-1]
        say(
            f"  {100 * cumtime / total:5.1f}%  {nc / max(units, 1):5.1f} calls/{unit}"
            f"  {func}  ({where}:{line})"
        )


async def run(args: argparse.Namespace, stack: DevStack) -> None:
    assert stack.postgres is not None
    settings = Settings(
        env=Environment.development,
        database_url=stack.database_url,
        nats_url=stack.nats_url,
        jwt_issuer=stack.settings.jwt_issuer,
        jwt_audience=stack.settings.jwt_audience,
        jwt_jwks_file=stack.issuer.jwks_file,
        log_level="WARNING",
    )
    app = create_app(settings)
    issuer = stack.issuer
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        integration = {"Authorization": f"Bearer {issuer.token(role=Role.integration)}"}
        officer = {
            "Authorization": "Bearer " + issuer.token(role=Role.case_officer, districts=[DISTRICT]),
        }
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://a", headers=integration) as system,
            httpx.AsyncClient(transport=transport, base_url="http://a", headers=officer) as direct,
        ):
            expect(await system.post("/v1/config/presets/oslo"), 200)
            expect(
                await system.put(
                    f"/v1/districts/{DISTRICT}",
                    json={
                        "name": "Frogner",
                        "organisation_model": "trust_model",
                        "case_office": "Forvaltning",
                    },
                ),
                200,
            )
            await announce_providers(stack)
            for _ in range(100):
                if PROVIDER_A in {p["provider_org"] for p in (await system.get("/v1/providers")).json()}:
                    break
                await asyncio.sleep(0.1)
            numbers = list(synthetic_identity_numbers(1000 + args.count, seed=7))
            person_ids: list[str] = []
            for body in batches(import_items(numbers, 0, 1000, "profile-setup", False), 1000):
                r = await system.post("/v1/imports/persons", content=body)
                person_ids += [i["person_id"] for i in expect(r, 200).json()["items"]]
            profile = cProfile.Profile()
            if args.what == "decisions":
                make = decision_maker(direct, "/v1/decisions", person_ids, 0)
                await run_closed_loop(50, args.concurrency, make, time_limit_s=30)  # warm-up
                t0 = time.perf_counter()
                profile.enable()
                load = await run_closed_loop(args.count, args.concurrency, make, time_limit_s=300)
                profile.disable()
                units, unit = load.summary.count, "decision"
            else:
                items = import_items(numbers, 1000, args.count, "profile-gerica", True)
                bodies = batches(items, args.batch_size)
                if args.replay:
                    for body in bodies:
                        expect(await system.post("/v1/imports/persons", content=body), 200)
                t0 = time.perf_counter()
                profile.enable()
                for body in bodies:
                    r = await system.post(
                        "/v1/imports/persons", content=body, headers={"Content-Type": "application/json"}
                    )
                    expect(r, 200)
                profile.disable()
                units, unit = args.count, "person"
            elapsed = time.perf_counter() - t0
            say(f"{units} {unit}s in {elapsed:.2f} s under the profiler ({units / elapsed:.0f}/s)")
            report(profile, units, unit, args.top)
            if args.dump:
                profile.dump_stats(args.dump)
                say(f"profile written to {args.dump}")
            relay = app.state.relay
            for _ in range(600):
                if await relay.pending_count() == 0:
                    break
                await asyncio.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.profile_assessment", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("what", choices=["decisions", "import"])
    p.add_argument("--count", type=int, default=500, help="decisions, or persons imported")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent decision clients")
    p.add_argument("--batch-size", type=int, default=1000)
    p.add_argument("--replay", action="store_true", help="import once unprofiled, then profile the replay")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--dump", type=Path, default=None, help="write the raw profile (pstats) here")
    p.add_argument("--data-dir", type=Path, default=DATA_DIR, help="deleted at start")
    args = p.parse_args(argv)
    shutil.rmtree(args.data_dir, ignore_errors=True)
    stack = DevStack(args.data_dir, Settings(database_url="", nats_url=""))
    stack.start_infrastructure()
    try:
        stack.migrate()
        stack.issuer.ensure_keys()
        asyncio.run(run(args, stack))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
