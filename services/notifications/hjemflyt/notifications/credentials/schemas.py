from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CredentialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(
        default=None, max_length=200, description="What system uses it, e.g. 'Visma production'"
    )


class CredentialOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    client_id: str
    provider_org: str
    description: str | None
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


class CredentialCreated(CredentialOut):
    client_secret: str = Field(description="Shown once; only a hash is kept")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105
    expires_in: int
    scope: str
