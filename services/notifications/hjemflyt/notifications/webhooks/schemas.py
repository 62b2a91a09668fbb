from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="https URL of your receiver")


class WebhookOut(BaseModel):
    provider_org: str
    url: str
    active: bool
    rotating_until: datetime | None = Field(
        description="Until then messages are signed with the previous secret too"
    )
    created_at: datetime
    updated_at: datetime


class WebhookSecretOut(WebhookOut):
    secret: str | None = Field(
        description="The signing secret, shown only now (null when the URL changed and the secret did not)"
    )
