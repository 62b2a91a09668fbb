"""The `hjemflyt` command: run the system, migrate, print tokens, serve the portal behind the gateway,
print the event catalogue, load the demo municipality."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from hjemflyt.shared.platform.auth import Role
from hjemflyt.shared.platform.settings import SERVICES, Settings, get_settings

log = logging.getLogger("hjemflyt")


def run_dir(settings: Settings) -> Path:
    return settings.data_dir / "run"


def cmd_run(args: argparse.Namespace) -> int:
    from hjemflyt.shared.demo import PROVIDERS, load_demo
    from hjemflyt.shared.devstack import DevStack, StackError

    settings = get_settings()
    stack = DevStack(run_dir(settings), settings)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("Starting hjemflyt (PostgreSQL, NATS, four services, gateway)…", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"hjemflyt could not start: {exc}", file=sys.stderr)
        return 1
    try:
        if not args.no_demo:
            print("Loading the demo municipality through the API…", flush=True)
            counts = asyncio.run(load_demo(stack.base_url, stack.issuer, persons=args.persons))
            if counts["persons"]:
                print(f"  {counts['persons']} persons with decisions loaded.")
            else:
                print("  demo data already present.")
        base = stack.base_url
        docs = "\n".join(f"  {s:<14} {base}/{s}/docs" for s in SERVICES)
        print(
            f"\nhjemflyt is running at {base}\n\nAPI docs:\n{docs}\n"
            f"  events         {base}/asyncapi.json\n  health         {base}/healthz\n\n"
            "Tokens (development issuer):\n"
            '  make token ARGS="--role case_officer --district gamle-oslo"\n'
            f'  make token ARGS="--role provider --provider {PROVIDERS[2].org}"   ({PROVIDERS[2].name})\n'
            '  make token ARGS="--role integration"\n'
            "  (or `uv run hjemflyt token ...` where uv is on PATH)\n"
            f"Logs: {stack.log_dir}\n\nPress Ctrl-C to stop.",
            flush=True,
        )
        # A process that dies is restarted (with back-off); the others keep running.
        stack.supervise(stop, report=lambda line: print(line, file=sys.stderr, flush=True))
        return 0
    finally:
        print("\nStopping…", flush=True)
        stack.stop()
        print("Stopped.", flush=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from hjemflyt.shared.platform.migrations import upgrade

    settings = get_settings()
    if not settings.database_url:
        print("HJEMFLYT_DATABASE_URL is not set", file=sys.stderr)
        return 2
    for service in args.services or SERVICES:
        upgrade(service, settings.database_url)
        print(f"{service}: migrated to head")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from hjemflyt.shared.platform.devissuer import DevIssuer

    settings = get_settings()
    directory = Path(args.data_dir) if args.data_dir else run_dir(settings) / "dev-issuer"
    issuer = DevIssuer(
        directory, issuer=settings.jwt_issuer, audience=settings.jwt_audience, tenant=settings.tenant
    )
    role = Role(args.role)
    if role == Role.provider and not args.provider:
        print("--provider ORGNR is required for the provider role", file=sys.stderr)
        return 2
    print(
        issuer.token(
            role=role,
            subject=args.subject,
            districts=args.district or None,
            provider_org=args.provider,
            person_id=args.person,
            ttl_seconds=args.ttl,
        )
    )
    return 0


def cmd_portal(args: argparse.Namespace) -> int:
    import uvicorn

    from hjemflyt.shared.portal import create_portal

    settings = get_settings()
    uvicorn.run(
        create_portal(settings), host=settings.portal_host, port=settings.portal_port, access_log=False
    )
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from hjemflyt.shared.contracts.asyncapi import asyncapi_document

    text = json.dumps(asyncapi_document(), indent=2, ensure_ascii=False) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hjemflyt.shared.demo import load_demo
    from hjemflyt.shared.platform.devissuer import DevIssuer

    settings = get_settings()
    issuer = DevIssuer(run_dir(settings) / "dev-issuer", issuer=settings.jwt_issuer, tenant=settings.tenant)
    print(asyncio.run(load_demo(args.base_url, issuer, persons=args.persons)))
    return 0


def _contact(value: str) -> dict[str, str]:
    parts = value.split(";")
    if len(parts) != 4 or parts[0] not in ("1", "2", "3") or not all(p.strip() for p in parts):
        raise argparse.ArgumentTypeError("a contact is KIND;NAME;PHONE;EMAIL with KIND 1, 2 or 3")
    return dict(zip(("kind", "name", "phone", "email"), (p.strip() for p in parts), strict=True))


def cmd_iplos(args: argparse.Namespace) -> int:
    import httpx

    from hjemflyt.shared.iplos_export import export

    settings = get_settings()
    token = args.token or os.environ.get("HJEMFLYT_TOKEN")
    if not token:
        from hjemflyt.shared.platform.devissuer import DevIssuer

        issuer = DevIssuer(
            run_dir(settings) / "dev-issuer", issuer=settings.jwt_issuer, tenant=settings.tenant
        )
        token = issuer.token(role=Role.integration, subject="iplos-export")
    contacts = args.contact or [
        _contact("1;IPLOS-ansvarlig;00000000;iplos@example.invalid"),
        _contact("2;IPLOS-kontakt;00000000;iplos@example.invalid"),
    ]
    if len(contacts) < 2:
        print("the register needs two or three contacts (--contact, repeatable)", file=sys.stderr)
        return 2

    async def go() -> int:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=args.base_url, headers=headers, timeout=600.0) as client:
            written = await export(client, args.year, Path(args.out), contacts=contacts, serial=args.serial)
        print(f"content:      {written.content}")
        print(f"identity:     {written.identity}  (personal data: keep apart, deliver apart)")
        print(f"completeness: {written.completeness}")
        print("figures:      " + ", ".join(f"{k} {v}" for k, v in written.figures.items()))
        for rule, n in sorted(written.problems.items()):
            print(f"  {n:6d}  {rule}")
        return 0

    try:
        return asyncio.run(go())
    except RuntimeError as exc:
        print(str(exc), file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hjemflyt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="start the whole system with embedded servers and the demo municipality")
    p.add_argument("--no-demo", action="store_true", help="do not load the demo municipality")
    p.add_argument("--persons", type=int, default=300, help="demo persons to create (default 300)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("migrate", help="migrate service schemas to head (HJEMFLYT_DATABASE_URL)")
    p.add_argument("services", nargs="*", choices=[[], *SERVICES], metavar="SERVICE")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("token", help="print a development token")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--district", action="append", help="a district the principal works in (repeatable)")
    p.add_argument("--provider", help="organisation number, for the provider role")
    p.add_argument("--subject", help="the user id (default dev-<role>)")
    p.add_argument("--person", help="the person's id, for the citizen role (as a national login names them)")
    p.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    p.add_argument("--data-dir", help="the dev issuer's folder (default .hjemflyt/run/dev-issuer)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser(
        "portal", help="serve the portal behind the gateway (HJEMFLYT_PORTAL_* and HJEMFLYT_<SERVICE>_URL)"
    )
    p.set_defaults(func=cmd_portal)

    p = sub.add_parser("asyncapi", help="print the AsyncAPI event catalogue")
    p.add_argument("--out", help="write to this file instead of stdout")
    p.set_defaults(func=cmd_asyncapi)

    p = sub.add_parser("demo", help="load the demo municipality into a running system")
    p.add_argument("--base-url", default="http://127.0.0.1:8000")
    p.add_argument("--persons", type=int, default=300)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "iplos", help="fetch the year's IPLOS files (content and identity, apart) and completeness report"
    )
    p.add_argument("year", type=int)
    p.add_argument("--base-url", default="http://127.0.0.1:8000", help="the gateway")
    p.add_argument("--out", default=".", help="folder to write the files to")
    p.add_argument("--serial", default="1", help="the delivery's number (iiLopenr)")
    p.add_argument(
        "--contact", action="append", type=_contact, help="KIND;NAME;PHONE;EMAIL (2-3; KIND 1 sender, 2, 3)"
    )
    p.add_argument("--token", help="a bearer token (default $HJEMFLYT_TOKEN, else a dev integration token)")
    p.set_defaults(func=cmd_iplos)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per demo request is noise
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
