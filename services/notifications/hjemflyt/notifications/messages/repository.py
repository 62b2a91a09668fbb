"""All SQL of messages, and the numbering that keeps them in order."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hjemflyt.notifications.messages.models import Message

# The ordering key of the provider's whole inbox (positions), and of messages that concern
# no person (routine publications).
INBOX_KEY = "*inbox"
NO_PERSON_KEY = "*provider"

DELIVERY_CHANNEL = "hjemflyt_notifications_delivery"

_NEXT = text(
    """
    INSERT INTO notifications.message_sequence AS s (provider_org, ordering_key, last)
    VALUES (:provider_org, :ordering_key, 1)
    ON CONFLICT (provider_org, ordering_key) DO UPDATE SET last = s.last + 1
    RETURNING last
    """
)


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self, provider_org: str, ordering_key: str) -> int:
        return int(
            (
                await self.session.execute(
                    _NEXT, {"provider_org": provider_org, "ordering_key": ordering_key}
                )
            ).scalar_one()
        )

    async def add(self, message: Message) -> Message:
        self.session.add(message)
        await self.session.flush()
        return message

    async def wake_delivery(self) -> None:
        """Wake the delivery worker at commit (once per transaction)."""
        if not self.session.info.get("delivery_notified"):
            await self.session.execute(text("SELECT pg_notify(:c, '')"), {"c": DELIVERY_CHANNEL})
            self.session.info["delivery_notified"] = True
