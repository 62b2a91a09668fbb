"""RFC 9457 problem details (`application/problem+json`) for every error answer.

Each problem has a stable `type` URI that integrators can switch on; `title` is fixed per
type, `detail` explains this occurrence. 422 is only for payload validation; 409 for state
conflicts; 404 also for what the caller may not see.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hjemflyt.shared.contracts.bounds import Breach

PROBLEM_BASE = "https://hjemflyt.no/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


class Problem(Exception):
    """A domain error answered as problem+json. Subclass per rule, or raise with a slug."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        out["detail"] = self.detail
        if instance:
            out["instance"] = instance
        out.update(self.extensions)
        return out


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class RuleViolation(Problem):
    """A business rule refused the request (the payload was well-formed)."""

    status, slug, title = 422, "rule-violation", "The request breaks a rule"


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class PreconditionRequired(Problem):
    status, slug, title = 428, "precondition-required", "Precondition required"


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class DatabaseUnavailable(Exception):
    """The database could not be reached: refused, reset, timed out (raised by the engine's
    connect, `db.create_engine`, in place of the bare OSError the driver gives)."""


# PostgreSQL's "connection exception" class and the shutdown states: a restart or failover.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")
RETRY_AFTER_SECONDS = 1


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the database was out of reach - stopped,
    restarting, failing over, or the pooled connection died with it - rather than that it
    refused the request. The pool has dropped such connections, so a retry reconnects."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DatabaseUnavailable):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, asyncpg.ConnectionDoesNotExistError):
            return True
        state = getattr(error, "sqlstate", None) or ""
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        error = error.__cause__ or error.__context__
    return False


def unavailable_problem() -> Problem:
    return Problem(
        "The database cannot be reached just now (a restart or failover). Send the request "
        "again in a moment; with the same Idempotency-Key a request that did take effect is "
        "not done twice.",
        status=503,
        slug="database-unavailable",
        title="Database unavailable",
    )


def instance_of(request: Request) -> str:
    """The path as the caller sent it, gateway prefix included."""
    root, path = request.scope.get("root_path", ""), request.url.path
    return path if path.startswith(root) else root + path


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    headers = None
    if problem.status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="hjemflyt"'}
    elif problem.status == 503:
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(
        problem.body(instance_of(request) if request else None),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


_STATUS_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict with the current state"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


def database_problem(exc: Exception) -> Problem | None:
    """The caller's input the database refused, as the problem it is: the last line of
    defence for values no schema caught (a null byte in a text, an integer beyond 64 bits,
    a date PostgreSQL cannot hold, a reference to a row that does not exist). The
    transaction is rolled back, so nothing changed. None for a fault of the system."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc  # SQLAlchemy's, or the raw driver's
    state = getattr(error, "sqlstate", None) or ""
    if state.startswith("22") or (not state and "invalid input for query argument" in str(error)):
        return Problem(
            "A value in the request is outside what can be stored (a null byte, a number or "
            "date out of range, or malformed text); nothing was changed.",
            status=422,
            slug="value-out-of-range",
            title="Value out of range",
        )
    if state == "23503":
        return Problem(
            "The request refers to something that does not exist; nothing was changed.",
            status=422,
            slug="reference-not-found",
            title="Reference not found",
        )
    if state == "23505":
        return Problem(
            "That exists already; nothing was changed.",
            status=409,
            slug="already-exists",
            title="Already exists",
        )
    if state == "23514":
        return Problem(
            "A value breaks a rule of the data; nothing was changed.",
            status=422,
            slug="constraint-violated",
            title="Constraint violated",
        )
    return None


def _allowed_methods(request: Request) -> str:
    """`Allow` for a 405: every method the OpenAPI document gives the resource, not only
    those of the one route the router tried first (a path's GET and PUT are often two
    routes). Where a literal path and a template both match (`/persons/lookup`,
    `/persons/{person_id}`), the literal one's."""
    path = request.scope.get("path", "")
    matching = [
        (template, item)
        for template, item in request.app.openapi().get("paths", {}).items()
        if re.fullmatch(re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template)), path)
    ]
    if not matching:
        return ""
    _, item = min(matching, key=lambda found: found[0].count("{"))
    return ", ".join(sorted(m.upper() for m in item if m in _METHODS))


def validation_problem(errors: list[dict[str, Any]]) -> Problem:
    return Problem(
        "The request does not match the schema; see `errors`.",
        status=422,
        slug="validation-error",
        title="Invalid request",
        errors=errors,
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": list(e.get("loc", ())), "message": e.get("msg", ""), "code": e.get("type", "")}
            for e in exc.errors()
        ]
        return problem_response(validation_problem(errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _STATUS_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        problem = Problem(detail, status=exc.status_code, slug=slug, title=title)
        response = problem_response(problem, request)
        if exc.headers:
            response.headers.update(exc.headers)
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            response.headers["Allow"] = allowed
        return response

    @app.exception_handler(DBAPIError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.DataError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(DatabaseUnavailable)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):
            # The system's fault, not the caller's, and passing: 503 with Retry-After.
            log.warning(
                "database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
            )
            return problem_response(unavailable_problem(), request)
        problem = database_problem(exc)
        if problem is None:
            return await _unexpected(request, exc)
        # No values in the log: they may be personal data.
        log.info("refused by the database on %s %s: %s", request.method, request.url.path, problem.slug)
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):  # wrapped in something else on its way up
            log.warning("database unavailable on %s %s", request.method, request.url.path, exc_info=exc)
            return problem_response(unavailable_problem(), request)
        # The exception is logged with its traceback; the caller learns only that it failed.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        problem = Problem(
            "An unexpected error occurred; nothing was changed.",
            status=500,
            slug="internal-error",
            title="Internal error",
        )
        return problem_response(problem, request)


# --- The problem responses in every service's OpenAPI document ----------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `type` is stable per rule; more members may follow "
    "(`errors` for a schema mismatch, `missing_scopes` for a 403, ...).",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "example": PROBLEM_BASE + "validation-error"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "For `validation-error`: where and why the request does not match the schema.",
            "items": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                    },
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

# What each status means for any operation of any service (a route's own description wins).
_PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: `null-byte` in the path or query, `bad-request`",
    401: "`unauthorized`: missing or invalid bearer token",
    403: "`forbidden`: the token lacks a required scope",
    404: "`not-found`: no such resource, or not one the caller may see",
    409: "`conflict` with the current state, or `already-exists`",
    413: "`payload-too-large`: the body is larger than the operation accepts",
    415: "`unsupported-media-type`",
    422: "`validation-error` (the request does not match the schema; see `errors`), a rule the "
    "request breaks (`rule-violation` and the rule's own slug), `value-out-of-range`, "
    "`reference-not-found`",
    429: "`too-many-requests`",
    503: "`database-unavailable`: the database is out of reach for a moment; send again after Retry-After",
}
_WRITES = {"post", "put", "patch", "delete"}
_METHODS = _WRITES | {"get", "head", "options"}


def _problem_codes(operation: dict[str, Any]) -> set[int]:
    """The problems any operation of this shape can answer with, wherever it is routed."""
    parameters = operation.get("parameters") or []
    has_body = "requestBody" in operation
    codes = {400}  # a null byte in the path or query reaches no operation
    if operation.get("security"):
        codes |= {401, 403, 503}  # an authenticated operation reads or writes the database
    if parameters or has_body:
        # 409 too on a read: a state the request depends on (e.g. nothing in force that day).
        codes |= {404, 409, 422}
    if has_body:
        codes |= {413}
    return codes


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare in an OpenAPI document the problem+json answers every operation can give: the
    shared `Problem` component under `application/problem+json` for each 4xx/5xx, with the
    route's own description where it has one (and its own content where it declares one).
    Applied once per service (platform.app)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            codes = _problem_codes(operation)
            if method in _WRITES:
                codes |= {409, 422}  # what the database refuses (database_problem)
            for code in sorted(codes):
                responses.setdefault(str(code), {})
            for code, response in responses.items():
                if not (code.isdigit() and int(code) >= 400):
                    continue
                description = response.get("description")
                if not description or description == "Validation Error":
                    response["description"] = _PROBLEM_DESCRIPTIONS.get(int(code), "A problem (problem+json)")
                # A route's own error format stays (the OAuth token endpoint's RFC 6749 JSON);
                # FastAPI's own 422 (`HTTPValidationError`, application/json) is not what is answered.
                if "content" not in response or "HTTPValidationError" in json.dumps(response["content"]):
                    response["content"] = content
            operation["responses"] = dict(sorted(responses.items()))
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in components and f'"#/components/schemas/{unused}"' not in _refs(schema, unused):
            del components[unused]
    return schema


def _refs(schema: dict[str, Any], name: str) -> str:
    """The document as text without the component itself: to see whether anything still uses it."""
    rest = {k: v for k, v in schema["components"]["schemas"].items() if k != name}
    return json.dumps({"paths": schema.get("paths"), "schemas": rest})


_BREACH_TITLES = {
    "control-character": "Control character in a text",
    "date-out-of-range": "Date out of range",
    "amount-out-of-range": "Amount out of range",
    "number-out-of-range": "Number out of range",
}


def bounds_problem(found: list[Breach]) -> Problem:
    """The bounds of `contracts.bounds` a request breaks, as one 422 naming the first rule
    (its slug) and every field (`errors`, shaped as a validation error's)."""
    first = found[0]
    return Problem(
        f"{first.message} ({'.'.join(str(p) for p in first.location)})",
        status=422,
        slug=first.rule,
        title=_BREACH_TITLES.get(first.rule, "Value out of range"),
        errors=[{"location": list(b.location), "message": b.message, "code": b.rule} for b in found],
    )
