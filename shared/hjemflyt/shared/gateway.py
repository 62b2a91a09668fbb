"""The gateway: one base URL in front of the four services.

`/<service>/...` is forwarded to that service with the prefix removed (each service runs
with `root_path=/<service>`, so its docs and OpenAPI links point back through the gateway).
`/healthz` answers for the whole system. In development it also serves the dev issuer's
JWKS. A small reverse proxy of our own: a production deployment may put any ingress in
front instead, with the same routes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from hjemflyt.shared.platform.errors import PROBLEM_MEDIA_TYPE, Problem
from hjemflyt.shared.platform.settings import SERVICES, Environment, Settings, get_settings

# Hop-by-hop headers (RFC 9110 § 7.6.1) are not forwarded.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def create_gateway(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    upstreams = {name: settings.service_url(name).rstrip("/") for name in SERVICES}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Long timeouts on read: the provider inbox long-polls through the gateway.
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
        timeout = httpx.Timeout(connect=5.0, read=120.0, write=30.0, pool=10.0)
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            app.state.client = client
            yield

    app = FastAPI(
        title="hjemflyt gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

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

    @app.api_route(
        "/{service}/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    )
    async def proxy(service: str, path: str, request: Request) -> Response:
        upstream = upstreams.get(service)
        if upstream is None:
            body = Problem(
                f"No service called {service!r}.", status=404, slug="not-found", title="Not found"
            ).body(request.url.path)
            return JSONResponse(body, status_code=404, media_type=PROBLEM_MEDIA_TYPE)
        client: httpx.AsyncClient = request.app.state.client
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        headers.append(("x-forwarded-prefix", f"/{service}"))
        if request.client:
            headers.append(("x-forwarded-for", request.client.host))
        outgoing = client.build_request(
            request.method,
            f"{upstream}/{path}",
            params=httpx.QueryParams(request.url.query),
            headers=headers,
            content=request.stream(),
        )
        try:
            upstream_response = await client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            body = Problem(
                f"The {service} service did not answer ({type(exc).__name__}).",
                status=502,
                slug="bad-gateway",
                title="Bad gateway",
            ).body(request.url.path)
            return JSONResponse(body, status_code=502, media_type=PROBLEM_MEDIA_TYPE)
        response_headers = {k: v for k, v in upstream_response.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            upstream_response.aiter_raw(),
            status_code=upstream_response.status_code,
            headers=response_headers,
            background=BackgroundTask(upstream_response.aclose),
        )

    return app
