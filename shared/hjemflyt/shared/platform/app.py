"""The service app factory: lifespan (database, bus, outbox relay, consumers), problem+json
errors, `/healthz`, `/readyz`, `/metrics`, and the development clock control.

A service declares a `ServiceSpec` (its routers and consumers); everything else is here,
so the four services behave the same at their edges.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import inspect
import logging
import re
import time
import types
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import APIRouter, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hjemflyt.shared.contracts.bounds import breaches
from hjemflyt.shared.platform.access import router as access_router
from hjemflyt.shared.platform.audit import AccessLog, reset_requested_purpose, set_requested_purpose
from hjemflyt.shared.platform.auth import TokenVerifier
from hjemflyt.shared.platform.bus import Bus
from hjemflyt.shared.platform.clock import Clock
from hjemflyt.shared.platform.consumer import Consumer
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.crypto import BusSealer, FieldCipher
from hjemflyt.shared.platform.db import create_engine, create_sessionmaker
from hjemflyt.shared.platform.errors import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    bounds_problem,
    document_problems,
    install_problem_handlers,
    validation_problem,
)
from hjemflyt.shared.platform.logs import configure_logging
from hjemflyt.shared.platform.outbox import Outbox, OutboxRelay
from hjemflyt.shared.platform.settings import Environment, Settings, get_settings
from hjemflyt.shared.platform.tables import PlatformTables

log = logging.getLogger(__name__)

REQUESTS = Counter("hjemflyt_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "hjemflyt_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

# Largest request body a service accepts; bulk endpoints raise it for themselves.
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    tables: PlatformTables
    routers: Sequence[APIRouter]
    consumers: Callable[[ServiceContext], list[Consumer]] = lambda ctx: []
    # Background loops of the service itself (e.g. webhook delivery, deadline sweeps):
    # name -> coroutine factory; run beside the relay and cancelled at shutdown.
    workers: Callable[[ServiceContext], dict[str, Callable[[], Coroutine[Any, Any, None]]]] = lambda ctx: {}
    version: str = "0.1.0"
    openapi_tags: list[dict[str, Any]] = field(default_factory=list)
    # Bulk routes that accept more than MAX_BODY_BYTES: path (as routed; `{name}` stands for
    # one path segment, e.g. "/v1/visit-batches/{batch_id}") -> largest body in bytes.
    body_limits: Mapping[str, int] = field(default_factory=dict)


# The development clock moves at most a century (a date beyond year 9999 is an OverflowError).
_CENTURY_SECONDS = 100 * 366 * 86400


class ClockMove(BaseModel):
    advance_seconds: float | None = Field(default=None, ge=0, le=_CENTURY_SECONDS)
    offset_seconds: float | None = Field(default=None, ge=0, le=_CENTURY_SECONDS)


class ClockState(BaseModel):
    now: datetime
    offset_seconds: float


class _Edge:
    """Pure ASGI middleware: the gateway prefix, a body-size limit, metrics per route."""

    def __init__(
        self, app: ASGIApp, service: str, root_path: str, body_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.service = service
        self.root_path = root_path
        self.body_limits = dict(body_limits or {})
        # Paths with parameters: "{name}" matches one segment.
        self._templated = [
            (re.compile("^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(path)) + "$"), limit)
            for path, limit in self.body_limits.items()
            if "{" in path
        ]

    def _limit(self, path: str) -> int:
        limit = self.body_limits.get(path)
        if limit is None:
            limit = next((lim for rx, lim in self._templated if rx.match(path)), MAX_BODY_BYTES)
        return limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.root_path and not scope.get("root_path"):
            # The gateway strips /<service>; links in docs and OpenAPI must keep it.
            scope = dict(scope, root_path=self.root_path)
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            # PostgreSQL text cannot hold a null byte, and no identifier or filter has one.
            body = Problem(
                "The path or query contains a null byte.", status=400, slug="null-byte", title="Bad request"
            ).body(scope.get("path", "").replace("\x00", ""))
            await JSONResponse(body, status_code=400, media_type=PROBLEM_MEDIA_TYPE)(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        limit = self._limit(scope.get("path", ""))
        if length is not None and length.isdigit() and int(length) > limit:
            body = Problem(
                f"The body is larger than {limit} bytes.",
                status=413,
                slug="payload-too-large",
                title="Payload too large",
            ).body(scope.get("path"))
            await JSONResponse(body, status_code=413, media_type=PROBLEM_MEDIA_TYPE)(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        received = 0

        async def limited_receive() -> Message:
            # A chunked body has no Content-Length: count what arrives. HTTPException, not a
            # Problem: FastAPI turns anything else raised while reading the body into a 400.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise StarletteHTTPException(413, f"The body is larger than {limit} bytes.")
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        headers = dict(scope.get("headers") or [])
        stated = headers.get(b"hjemflyt-purpose")
        purpose = set_requested_purpose(stated.decode("utf-8", "replace") if stated is not None else None)
        try:
            await self.app(scope, limited_receive, send_wrapper)
        finally:
            reset_requested_purpose(purpose)
            route = scope.get("route")
            # The documented template (`{person_id}`), not the routed one (`{person_id:besides_...}`).
            template = getattr(route, "path_format", None) or getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(self.service, method, template, str(status)).inc()
            LATENCY.labels(self.service, method, template).observe(time.perf_counter() - start)


_gc_tuned = False


def _tune_gc() -> None:
    """Once per process, after startup: move what startup built (modules, routes, mappers,
    compiled statements) out of the cyclic collector's reach, and collect less often.
    A request allocates thousands of short-lived objects; with the default thresholds the
    collector ran a full pass over the whole heap many times per second under load."""
    global _gc_tuned
    if _gc_tuned:
        return
    _gc_tuned = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def raw_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def build_context(spec: ServiceSpec, settings: Settings, clock: Clock) -> ServiceContext:
    if not settings.database_url or not settings.nats_url:
        raise RuntimeError("HJEMFLYT_DATABASE_URL and HJEMFLYT_NATS_URL must be set")
    engine = create_engine(
        settings.database_url, pool_size=settings.database_pool_size, application_name=f"hjemflyt-{spec.name}"
    )
    bus = Bus(settings, name=f"hjemflyt-{spec.name}")
    return ServiceContext(
        name=spec.name,
        settings=settings,
        clock=clock,
        tables=spec.tables,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        bus=bus,
        outbox=Outbox(
            service=spec.name,
            schema=spec.name,
            tables=spec.tables,
            namespace=settings.bus_namespace,
            default_tenant=settings.tenant,
            clock=clock,
            sealer=BusSealer(key) if (key := settings.bus_key()) else None,
        ),
        access_log=AccessLog(spec.tables, clock),
        verifier=TokenVerifier(settings),
        raw_dsn=raw_dsn(settings.database_url),
        cipher=FieldCipher(settings.pii_key.get_secret_value(), settings.pii_index_key.get_secret_value()),
    )


def create_service_app(
    spec: ServiceSpec, settings: Settings | None = None, clock: Clock | None = None
) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or Clock(shift=timedelta(seconds=settings.clock_shift_seconds))
    configure_logging(settings.log_level, spec.name)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = build_context(spec, settings, clock)
        app.state.ctx = ctx
        await ctx.bus.connect()
        await ctx.bus.ensure_stream(spec.name)
        relay = OutboxRelay(
            service=spec.name,
            schema=spec.name,
            tables=spec.tables,
            sessionmaker=ctx.sessionmaker,
            bus=ctx.bus,
            clock=clock,
            raw_dsn=ctx.raw_dsn,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
        )
        tasks = [asyncio.create_task(relay.run(), name=f"{spec.name}-outbox-relay")]
        for consumer in spec.consumers(ctx):
            tasks.append(
                asyncio.create_task(consumer.run(), name=f"{spec.name}-consumer-{consumer.producer}")
            )
        for name, work in spec.workers(ctx).items():
            tasks.append(asyncio.create_task(work(), name=f"{spec.name}-{name}"))
        app.state.tasks = tasks
        app.state.relay = relay
        _tune_gc()
        log.info("%s started", spec.name)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            # Bounded: a worker that ignores cancellation must not keep the process alive.
            _, stuck = await asyncio.wait(tasks, timeout=10)
            for task in stuck:
                log.error("%s did not stop on cancellation", task.get_name())
            await ctx.bus.close()
            await ctx.engine.dispose()
            log.info("%s stopped", spec.name)

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        openapi_tags=spec.openapi_tags,
    )
    app.state.settings = settings
    app.state.clock = clock
    install_problem_handlers(app)
    app.add_middleware(_Edge, service=spec.name, root_path=settings.root_path, body_limits=spec.body_limits)
    # Every service answers for its own access log (auditors; assessment gathers them).
    routers = [*spec.routers, access_router]
    _route_beside_literals([r for router in routers for r in router.routes if isinstance(r, APIRoute)])
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                _guard_inputs(route)
        app.include_router(router)
    _install_operations(app, spec.name, settings, clock)
    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        # Every operation's problem answers, declared once here rather than per route.
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class _Besides(Convertor[str]):
    """A path segment but the literal ones beside it (see `_route_beside_literals`)."""

    def __init__(self, literals: frozenset[str]) -> None:
        alternatives = "|".join(re.escape(literal) for literal in sorted(literals))
        # Any segment that is not one of the literals (followed by `/` or the end).
        self.regex = f"(?!(?:{alternatives})(?:/|$))[^/]+"  # type: ignore[misc]

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


def _uuid_params(route: APIRoute) -> set[str]:
    """The path parameters the endpoint (and its dependencies) declare as UUIDs only."""
    kinds: dict[str, set[Any]] = {}
    dependants: list[Dependant] = [route.dependant]
    while dependants:
        dependant = dependants.pop()
        for param in dependant.path_params:
            kinds.setdefault(param.alias, set()).add(param.field_info.annotation)
        dependants.extend(dependant.dependencies)
    return {name for name, declared in kinds.items() if declared == {uuid.UUID}}


def _route_beside_literals(routes: Sequence[APIRoute]) -> None:
    """A UUID path parameter does not take the literal segment of a path beside it: where
    `POST /persons/lookup` stands beside `GET /persons/{person_id}`, `{person_id}` is routed
    as any segment but `lookup`. `GET /persons/lookup` is then answered 405 with the literal
    path's `Allow`, rather than routed to the template and refused as a malformed person id
    (no id is `lookup`). Everything else is routed as before: a malformed id still meets
    authentication first and then a 422 naming it. The OpenAPI path stays `{person_id}`
    (FastAPI documents `path_format`). Idempotent: the routers are shared by every app
    created from them."""
    shapes = [route.path_format.split("/") for route in routes]
    for route, shape in zip(routes, shapes, strict=True):
        uuids = _uuid_params(route)
        besides: dict[str, set[str]] = {}
        for other in shapes:
            if len(other) != len(shape) or other == shape:
                continue
            differ = [i for i, (mine, theirs) in enumerate(zip(shape, other, strict=True)) if mine != theirs]
            if len(differ) != 1:
                continue
            mine, theirs = shape[differ[0]], other[differ[0]]
            name = mine[1:-1] if mine.startswith("{") and mine.endswith("}") else None
            if name in uuids and not theirs.startswith("{"):
                besides.setdefault(name, set()).add(theirs)
        if not besides:
            continue
        path = route.path_format
        for name, literals in besides.items():
            key = "besides_" + hashlib.sha256("/".join(sorted(literals)).encode()).hexdigest()[:12]
            register_url_convertor(key, _Besides(frozenset(literals)))
            path = path.replace("{" + name + "}", "{" + name + ":" + key + "}")
        route.path = path
        route.path_regex, route.path_format, route.param_convertors = compile_path(path)


_TextForm = tuple[re.Pattern[str], str, str]
# The text forms a query parameter or header of these types must have: what the OpenAPI
# document states (`format: date`, `format: date-time`, `type: boolean`). Pydantic's lax mode
# also reads `since=0.5` as a Unix time, `1700000000` as a date and `yes`/`1`/`on` as true;
# a client that relied on that would be relying on what its documentation does not say.
# Time-zone offset and seconds stay optional in a date-time, as pydantic reads them.
_TEXT_FORMS: dict[type, _TextForm] = {
    datetime: (
        re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?"),
        "Input should be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00+01:00",
        "datetime_parsing",
    ),
    date: (
        re.compile(r"\d{4}-\d{2}-\d{2}"),
        "Input should be an ISO 8601 date, e.g. 2026-01-31",
        "date_parsing",
    ),
    bool: (re.compile(r"true|false", re.IGNORECASE), "Input should be true or false", "bool_parsing"),
}


def _text_form(annotation: Any) -> _TextForm | None:
    """The text form of a parameter's type (through Annotated, Optional and list)."""
    while True:
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is Annotated or origin is list:
            annotation = args[0]
        elif (
            origin in (Union, types.UnionType) and len(kinds := [a for a in args if a is not type(None)]) == 1
        ):
            annotation = kinds[0]
        else:
            return _TEXT_FORMS.get(annotation) if isinstance(annotation, type) else None


def _text_breaches(request: Request, forms: list[tuple[str, str, _TextForm]]) -> list[dict[str, Any]]:
    found = []
    for where, alias, (pattern, message, code) in forms:
        sent = request.query_params.getlist(alias) if where == "query" else request.headers.getlist(alias)
        if any(not pattern.fullmatch(value) for value in sent):
            found.append({"location": [where, alias], "message": message, "code": code})
    return found


def _embedded(info: Any) -> bool:
    return bool(getattr(info, "embed", False))


async def _strict_body(request: Request, adapter: TypeAdapter[Any]) -> list[dict[str, Any]]:
    """The body's errors in strict JSON mode (FastAPI has read and cached it)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data = await request.body()
    if not data or (media and media != "application/json" and not media.endswith("+json")):
        return []
    try:
        adapter.validate_json(data, strict=True)
    except ValidationError as exc:
        return [
            {"location": ["body", *e["loc"]], "message": e["msg"], "code": e["type"]}
            for e in exc.errors(include_url=False)
        ]
    return []


def _guard_inputs(route: APIRoute) -> None:
    """Refuse what breaks `contracts.bounds` in the values the schema has validated (path,
    query, headers, cookies, body) with 422 problem+json, before the endpoint runs: once
    here for every operation rather than in each endpoint or model. So too a date, date-time
    or boolean query parameter or header not written as the schema says (`_TEXT_FORMS`).
    The route's endpoint is wrapped before the router is included (an included route builds
    its handler from the endpoint); once, however many apps are created from the same routers."""
    dependant = route.dependant
    call = route.endpoint
    # Locations as FastAPI's own validation errors give them: a lone body is ("body", field...).
    lone_body = len(dependant.body_params) == 1
    params = [
        (where, param.name, () if where == "body" and lone_body else (param.alias or param.name,))
        for where, group in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("header", dependant.header_params),
            ("cookie", dependant.cookie_params),
            ("body", dependant.body_params),
        )
        for param in group
    ]
    if getattr(call, "_bounds_guarded", False) or not params or not inspect.iscoroutinefunction(call):
        return
    forms = [
        (where, param.alias, form)
        for where, group in (("query", dependant.query_params), ("header", dependant.header_params))
        for param in group
        if (form := _text_form(param.field_info.annotation)) is not None
    ]
    # The JSON body once more, in pydantic's strict mode: what the schema states and no more.
    # FastAPI validates the parsed JSON in lax mode, which takes `0` for a date, `"1"` or
    # `false` for an integer and `1` for true; strict JSON mode takes dates, times, UUIDs and
    # enums as their strings still. Only for a lone body that is the whole JSON document.
    body = dependant.body_params[0] if lone_body else None
    annotation = body.field_info.annotation if body and not _embedded(body.field_info) else None
    strict: TypeAdapter[Any] | None = TypeAdapter(annotation) if annotation is not None else None
    own = dependant.request_param_name

    @functools.wraps(call)
    async def guarded(*, _hjemflyt_request: Request | None = None, **values: Any) -> Any:
        request = values.get(own) if own else _hjemflyt_request
        if isinstance(request, Request):
            malformed = _text_breaches(request, forms) if forms else []
            if strict is not None and not malformed:
                malformed = await _strict_body(request, strict)
            if malformed:
                raise validation_problem(malformed)
        found = [
            breach for where, name, alias in params for breach in breaches(values.get(name), (where, *alias))
        ]
        if found:
            raise bounds_problem(found)
        return await call(**values)

    if (forms or strict is not None) and not own:
        # The raw request too (FastAPI passes it by its type, to one parameter only: the
        # endpoint's own if it has one): the parameters' text, the body.
        signature = inspect.signature(call)
        extra = inspect.Parameter("_hjemflyt_request", inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        guarded.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), extra]
        )
    guarded._bounds_guarded = True  # type: ignore[attr-defined]
    route.endpoint = guarded
    # A route used directly (not through include_router) keeps the handler it built.
    route.dependant.call = guarded


def _install_operations(app: FastAPI, service: str, settings: Settings, clock: Clock) -> None:
    ops = APIRouter(tags=["operations"])

    @ops.get("/healthz", summary="Alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @ops.get("/readyz", summary="Database and bus reachable")
    async def readyz() -> JSONResponse:
        ctx: ServiceContext | None = getattr(app.state, "ctx", None)
        checks: dict[str, str] = {}
        if ctx is None:
            checks["startup"] = "not finished"
        else:
            try:
                async with ctx.engine.connect() as conn:
                    await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
                checks["database"] = "ok"
            except Exception as exc:
                checks["database"] = f"unreachable: {type(exc).__name__}"
            checks["bus"] = "ok" if ctx.bus.is_connected else "disconnected"
            dead = [t.get_name() for t in getattr(app.state, "tasks", []) if t.done()]
            checks["workers"] = "ok" if not dead else "stopped: " + ", ".join(dead)
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "service": service, "checks": checks},
            status_code=200 if ready else 503,
        )

    @ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    if settings.dev_clock_control and settings.env != Environment.production:

        @ops.get("/_dev/clock", summary="Development only: the service's clock")
        async def get_clock() -> ClockState:
            return ClockState(now=clock.now(), offset_seconds=clock.offset.total_seconds())

        @ops.post("/_dev/clock", summary="Development only: move the service's clock forward")
        async def move_clock(move: ClockMove) -> ClockState:
            if move.offset_seconds is not None:
                if timedelta(seconds=move.offset_seconds) < clock.offset:
                    raise Problem("Time only moves forward.", status=409, slug="clock-backwards")
                clock.set_offset(timedelta(seconds=move.offset_seconds))
            if move.advance_seconds is not None:
                clock.advance(timedelta(seconds=move.advance_seconds))
            return ClockState(now=clock.now(), offset_seconds=clock.offset.total_seconds())

    app.include_router(ops)
