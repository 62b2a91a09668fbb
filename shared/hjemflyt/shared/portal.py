"""The portal: what the gateway serves itself, behind Caddy (deploy/Caddyfile).

Caddy forwards `/<service>/...` to the services; everything else comes here: the front
page with links to each service's docs, `/healthz` for the whole system (each service's
`/readyz`), the event catalogue, and in development the dev issuer's JWKS and the clock
of all services at once. It forwards no API traffic: that is the proxy's job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from hjemflyt.shared.platform.errors import PROBLEM_MEDIA_TYPE, Problem
from hjemflyt.shared.platform.settings import SERVICES, Environment, Settings, get_settings


def create_portal(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    upstreams = {name: settings.service_url(name).rstrip("/") for name in SERVICES}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0)) as client:
            app.state.client = client
            yield

    app = FastAPI(title="hjemflyt portal", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        links = "".join(
            f'<li>{n}: <a href="/{n}/docs">API docs</a> · <a href="/{n}/openapi.json">OpenAPI</a></li>'
            for n in SERVICES
        )
        return HTMLResponse(
            "<!doctype html><title>hjemflyt</title><h1>hjemflyt</h1>"
            f'<ul>{links}</ul><p><a href="/healthz">/healthz</a> · '
            '<a href="/asyncapi.json">event catalogue (AsyncAPI)</a></p>'
        )

    @app.get("/healthz")
    async def healthz(request: Request) -> JSONResponse:
        client: httpx.AsyncClient = request.app.state.client

        async def probe(name: str) -> tuple[str, str]:
            try:
                r = await client.get(f"{upstreams[name]}/readyz", timeout=3.0)
                return name, "ok" if r.status_code == 200 else f"not ready ({r.status_code})"
            except httpx.HTTPError as exc:
                return name, f"unreachable ({type(exc).__name__})"

        results = dict(await asyncio.gather(*(probe(n) for n in SERVICES)))
        ok = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "services": results}, status_code=200 if ok else 503
        )

    @app.get("/asyncapi.json")
    async def asyncapi() -> JSONResponse:
        from hjemflyt.shared.contracts.asyncapi import asyncapi_document

        return JSONResponse(asyncapi_document())

    _add_dev_routes(app, settings, upstreams)

    @app.api_route(
        "/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        include_in_schema=False,
    )
    async def not_found(path: str, request: Request) -> JSONResponse:
        body = Problem(
            "No such page: the services are under /assessment, /pathway, /budget and /notifications.",
            status=404,
            slug="not-found",
            title="Not found",
        ).body(request.url.path)
        return JSONResponse(body, status_code=404, media_type=PROBLEM_MEDIA_TYPE)

    return app


def _add_dev_routes(app: FastAPI, settings: Settings, upstreams: dict[str, str]) -> None:
    """The development helpers, present only when the settings ask for them."""
    if settings.jwt_jwks_file is not None:
        jwks: Path = settings.jwt_jwks_file

        @app.get("/.well-known/jwks.json")
        async def dev_jwks() -> FileResponse:
            return FileResponse(jwks, media_type="application/json")

    if settings.dev_clock_control and settings.env != Environment.production:

        @app.post("/_dev/clock")
        async def move_all_clocks(request: Request) -> JSONResponse:
            """Development only: move time in every service at once (whole-system tests)."""
            client: httpx.AsyncClient = request.app.state.client
            body = await request.body()
            headers = {"content-type": "application/json"}
            answers = await asyncio.gather(
                *(client.post(f"{upstreams[n]}/_dev/clock", content=body, headers=headers) for n in SERVICES)
            )
            replies = dict(zip(SERVICES, answers, strict=True))
            failed = {n: r.status_code for n, r in replies.items() if r.status_code != 200}
            if failed:
                return JSONResponse({"moved": False, "failed": failed}, status_code=502)
            return JSONResponse({n: r.json() for n, r in replies.items()})
