"""One content negotiation for every endpoint with more than one representation."""

from __future__ import annotations

import pytest

from hjemflyt.shared.platform.negotiation import preferred

OFFERED = ("text/html", "application/pdf")


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),
        ("  ", "text/html"),
        ("*/*", "text/html"),  # equal: the server's order
        ("application/*", "application/pdf"),
        ("application/pdf, text/html", "application/pdf"),  # equal: the client's order
        ("text/html;q=0.2, application/pdf", "application/pdf"),
        ("*/*, text/html;q=0", "application/pdf"),  # the most specific range decides
        ("text/html;level=1;q=0.5, application/pdf;q=0.4", "text/html"),
        ("image/png", None),
        ("text/html;q=0, application/pdf;q=x", None),  # an unreadable q refuses
    ],
)
def test_the_most_specific_range_decides_and_ties_go_to_the_client(
    accept: str | None, chosen: str | None
) -> None:
    assert preferred(accept, OFFERED) == chosen
