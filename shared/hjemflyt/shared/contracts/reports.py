"""Events of the notifications service: reports (see events.py for the envelope rules)."""

from __future__ import annotations
