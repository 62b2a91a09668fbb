"""The provider API of hjemflyt's notifications service, as a small async client.

`base_url` is the notifications service, e.g. `https://hjemflyt.example.kommune.no/notifications`.
Authenticate with a bearer token from the municipality's identity provider, or with client
credentials issued in hjemflyt's provider registry (`client_id`, `client_secret`): the
client then fetches short-lived tokens from `/v1/token` and renews them before they expire.

Errors come back as `ApiError` carrying the problem+json body (`type`, `title`, `detail`).
Retrying a visit batch with the same `batch_id` is safe: the server stores it once.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from datetime import date
from types import TracebackType
from typing import Any

import httpx


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('type', '')} {problem.get('detail', '')}".strip())
        self.status = status
        self.problem = problem

    @property
    def slug(self) -> str:
        return str(self.problem.get("type", "")).rsplit("/", 1)[-1]


class ProviderClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token and not (client_id and client_secret):
            raise ValueError("give a token, or client_id and client_secret")
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._token = token
        self._expires = float("inf") if token else 0.0
        self._client_id = client_id
        self._client_secret = client_secret

    async def __aenter__(self) -> ProviderClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing ---------------------------------------------------------------------

    async def _bearer(self) -> str:
        if self._token and time.monotonic() < self._expires - 30:
            return self._token
        r = await self._http.post(
            "/v1/token",
            data={"grant_type": "client_credentials"},
            auth=(self._client_id or "", self._client_secret or ""),
        )
        if r.status_code != 200:
            raise ApiError(r.status_code, _body(r))
        answer = r.json()
        self._token = str(answer["access_token"])
        self._expires = time.monotonic() + float(answer.get("expires_in", 300))
        return self._token

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {await self._bearer()}", **kwargs.pop("headers", {})}
        r = await self._http.request(method, path, headers=headers, **kwargs)
        if r.status_code >= 400:
            raise ApiError(r.status_code, _body(r))
        return r.json() if r.content else None

    # -- messages -----------------------------------------------------------------------

    async def inbox(
        self, *, after: int | str | None = None, limit: int = 100, wait: float = 0
    ) -> dict[str, Any]:
        """One page of messages after the cursor; waits up to `wait` seconds for new ones."""
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params["after"] = after
        if wait:
            params["wait"] = wait
        timeout = httpx.Timeout(max(30.0, wait + 10))
        page: dict[str, Any] = await self.request("GET", "/v1/inbox", params=params, timeout=timeout)
        return page

    async def messages(
        self, *, after: int | str | None = None, wait: float = 0
    ) -> AsyncIterator[dict[str, Any]]:
        """Every message after the cursor, page by page, until the inbox is empty."""
        cursor = after
        while True:
            page = await self.inbox(after=cursor, wait=wait)
            for item in page["items"]:
                yield item
            cursor = page.get("next_cursor") or cursor
            if not page["items"]:
                return

    async def acknowledge(self, message_id: str, *, accepted: bool = True, reason: str | None = None) -> Any:
        body: dict[str, Any] = {"accepted": accepted}
        if reason is not None:
            body["reason"] = reason
        return await self.request("POST", f"/v1/messages/{message_id}/acknowledgement", json=body)

    async def order(self, order_id: str) -> Any:
        return await self.request("GET", f"/v1/orders/{order_id}")

    # -- reports ------------------------------------------------------------------------

    async def confirm_start(self, order_id: str, *, started_on: date, primary_contact: dict[str, Any]) -> Any:
        body = {"started_on": started_on.isoformat(), "primary_contact": primary_contact}
        return await self.request("POST", f"/v1/orders/{order_id}/start", json=body)

    async def upload_visits(self, batch_id: str, visits: Sequence[dict[str, Any]]) -> Any:
        """Report visits; retrying the same batch id with the same visits is harmless."""
        return await self.request("PUT", f"/v1/visit-batches/{batch_id}", json={"visits": list(visits)})

    async def report_deviation(self, order_id: str, **deviation: Any) -> Any:
        return await self.request("POST", f"/v1/orders/{order_id}/deviations", json=deviation)

    async def report_change_of_need(self, order_id: str, **report: Any) -> Any:
        return await self.request("POST", f"/v1/orders/{order_id}/change-of-need", json=report)

    async def log_adjustment(self, order_id: str, **adjustment: Any) -> Any:
        """An adjustment inside the decision's bounds (trust model / friere faglighet): e.g.
        `service_type=..., measure={"code": "SAR"}, to={"times": 2}, reason=...`; pass `from_`
        for the request's `from`. Outside the bounds: ApiError with the rule's slug."""
        if "from_" in adjustment:
            adjustment["from"] = adjustment.pop("from_")
        return await self.request("POST", f"/v1/orders/{order_id}/adjustments", json=adjustment)

    async def adjustments(self, order_id: str) -> Any:
        return await self.request("GET", f"/v1/orders/{order_id}/adjustments")

    async def report_masters_daily_life(self, order_id: str, **report: Any) -> Any:
        return await self.request("POST", f"/v1/orders/{order_id}/masters-daily-life", json=report)


def _body(r: httpx.Response) -> dict[str, Any]:
    try:
        body = r.json()
    except ValueError:
        return {"detail": r.text[:500]}
    return body if isinstance(body, dict) else {"detail": body}
