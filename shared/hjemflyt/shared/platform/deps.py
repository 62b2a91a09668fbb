"""FastAPI dependency aliases every endpoint uses: the service context, the unit of work
(`SessionDep`, committed once before the response is sent), the principal and
`Idempotency-Key` handling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.shared.platform.audit import DEFAULT_PURPOSE, LoggedRead
from hjemflyt.shared.platform.auth import Principal, Scope
from hjemflyt.shared.platform.context import ServiceContext
from hjemflyt.shared.platform.db import unit_of_work
from hjemflyt.shared.platform.errors import Unauthorized
from hjemflyt.shared.platform.idempotency import Idempotency


async def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[ServiceContext, Depends(get_context)]


async def get_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(ctx.sessionmaker) as session:
        yield session


# scope="function": commit (or roll back) before the response is sent, so a client never
# sees success for a change that failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A JWT from the municipality's identity provider.")


async def get_principal(
    ctx: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send a bearer token in the Authorization header.")
    principal = ctx.verifier.verify(credentials.credentials)
    if principal.tenant != ctx.settings.tenant:
        raise Unauthorized("The token is for another municipality.")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(*scopes: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that answers 403 unless the principal holds every scope."""

    # async: FastAPI runs plain functions in a worker thread, a needless hop per request.
    async def check(principal: PrincipalDep) -> Principal:
        principal.require(*scopes)
        return principal

    return check


async def get_idempotency(
    request: Request, session: SessionDep, principal: PrincipalDep, ctx: ContextDep
) -> Idempotency:
    return Idempotency(request, session, principal, ctx.tables, ctx.clock, ctx.cipher)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]


async def get_purpose(
    purpose: Annotated[
        str,
        Header(
            alias="Hjemflyt-Purpose",
            max_length=200,
            description="Why the data is read; kept in the access log (default: case handling)",
        ),
    ] = DEFAULT_PURPOSE,
) -> str:
    return purpose.strip() or DEFAULT_PURPOSE


# The purpose of a read, from the `Hjemflyt-Purpose` header, for every service alike.
PurposeDep = Annotated[str, Depends(get_purpose)]


async def get_logged_read(
    ctx: ContextDep, session: SessionDep, principal: PrincipalDep, purpose: PurposeDep, request: Request
) -> LoggedRead:
    return LoggedRead(
        ctx.access_log, session, principal, purpose, trace_id=request.headers.get("traceparent")
    )


# Who reads, why, in this request's transaction: call it with the person ids shown.
LoggedReadDep = Annotated[LoggedRead, Depends(get_logged_read)]
