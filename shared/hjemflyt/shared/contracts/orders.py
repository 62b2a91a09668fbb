"""Events of the notifications service: orders (see events.py for the envelope rules)."""

from __future__ import annotations
