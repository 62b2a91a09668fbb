"""Webhook URLs and secrets (pure, except the DNS look-up of `public_address_problem`).

A hostile or careless caller must not make hjemflyt POST into the municipality's internal
network: in production (or when `webhook_allow_private_addresses` is false) a URL must be
https and every address its host resolves to must be public. The check runs when the URL
is set and again before each POST (DNS can change in between); redirects are never
followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from urllib.parse import urlsplit

from hjemflyt.shared.platform.errors import RuleViolation
from hjemflyt.shared.platform.settings import Environment, Settings

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    """`whsec_` + 43 characters of base64url (32 random bytes)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def private_addresses_allowed(settings: Settings) -> bool:
    if settings.webhook_allow_private_addresses is not None:
        return settings.webhook_allow_private_addresses
    return settings.env != Environment.production


def https_required(settings: Settings) -> bool:
    if settings.webhook_require_https is not None:
        return settings.webhook_require_https
    return settings.env == Environment.production


def check_form(url: str, *, require_https: bool) -> str:
    """The URL's host, or a RuleViolation naming what is wrong with the URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a malformed port
    except ValueError as exc:
        raise RuleViolation(f"The webhook URL is malformed: {exc}.", slug="invalid-webhook-url") from exc
    if parts.scheme not in ("http", "https"):
        raise RuleViolation("The webhook URL must be http or https.", slug="invalid-webhook-url")
    if not host:
        raise RuleViolation("The webhook URL has no host.", slug="invalid-webhook-url")
    if parts.username or parts.password:
        raise RuleViolation(
            "The webhook URL must not carry credentials; the signature authenticates us.",
            slug="invalid-webhook-url",
        )
    if parts.fragment:
        raise RuleViolation("The webhook URL must not have a fragment.", slug="invalid-webhook-url")
    if require_https and parts.scheme != "https":
        raise RuleViolation("The webhook URL must be https.", slug="webhook-https-required")
    return host


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def resolve(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def public_address_problem(url: str) -> str | None:
    """None if every address of the URL's host is public; else why not."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except OSError as exc:
        return f"the host {host} does not resolve ({exc.strerror or exc})"
    if not addresses:
        return f"the host {host} does not resolve"
    private = [a for a in addresses if not is_public(a)]
    if private:
        return f"the host {host} resolves to a non-public address ({private[0]})"
    return None


async def check_url(url: str, settings: Settings) -> str:
    """Refuse a URL we must not POST to; returns it normalised (no surrounding space)."""
    url = url.strip()
    check_form(url, require_https=https_required(settings))
    if not private_addresses_allowed(settings):
        problem = await public_address_problem(url)
        if problem:
            raise RuleViolation(f"The webhook URL is refused: {problem}.", slug="webhook-address-not-public")
    return url


async def refuse_private(url: str) -> str | None:
    """Before a POST: why not to send there (DNS may have changed since the URL was set)."""
    problem = await public_address_problem(url)
    return f"refused: {problem}" if problem else None
