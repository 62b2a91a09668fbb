"""Logging setup. Log lines carry ids (person_id, decision_id), never identity numbers or
names: code logs ids only, and `RedactIdentityNumbers` masks any 11-digit run that slips in.
"""

from __future__ import annotations

import logging
import re

_ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


class RedactIdentityNumbers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _ELEVEN_DIGITS.search(message):
            record.msg = _ELEVEN_DIGITS.sub("***********", message)
            record.args = None
        return True


def configure_logging(level: str, service: str) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, RedactIdentityNumbers) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(RedactIdentityNumbers())
        root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "nats"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
