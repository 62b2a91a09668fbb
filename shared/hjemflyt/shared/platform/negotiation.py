"""Content negotiation by the Accept header, one rule for every endpoint that offers more
than one representation (the decision letter, documents, pictures, the access log as FHIR).

RFC 9110 § 12.5.1: each offered type takes the quality of the most specific range that
matches it (`text/html`, then `text/*`, then `*/*`); `q=0` refuses it. The highest quality
wins; between equals, the range the client listed first, then the server's order. No
Accept header (or an empty one) takes the server's first offer.
"""

from __future__ import annotations

from collections.abc import Sequence


def _ranges(accept: str) -> list[tuple[str, float, int]]:
    found = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        found.append((media.lower(), min(max(q, 0.0), 1.0), position))
    return found


def preferred(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers; None when it accepts none of them."""
    if accept is None or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    best: tuple[tuple[float, int, int], str] | None = None
    for index, media_type in enumerate(offered):
        main = media_type.split("/")[0]
        for pattern in (media_type, f"{main}/*", "*/*"):  # most specific first
            matching = [(q, position) for media, q, position in ranges if media == pattern]
            if not matching:
                continue
            q, position = max(matching, key=lambda m: (m[0], -m[1]))
            if q > 0:
                key = (q, -position, -index)
                if best is None or key > best[0]:
                    best = (key, media_type)
            break
    return best[1] if best else None
