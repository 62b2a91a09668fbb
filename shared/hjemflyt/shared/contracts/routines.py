"""Events of the notifications service: routines (see events.py for the envelope rules)."""

from __future__ import annotations
