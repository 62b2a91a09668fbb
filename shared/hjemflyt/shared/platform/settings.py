"""Settings for every hjemflyt process, read from `HJEMFLYT_*` environment variables.

One class for all services keeps the names identical everywhere (compose, Kubernetes,
the dev stack); each service reads the fields it needs. Defaults suit a developer's
machine; in production (`HJEMFLYT_ENV=production`) the `_refuse_dev_secrets` validator
refuses development secrets and the development clock at start-up.
"""

from __future__ import annotations

import base64
import json
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hjemflyt.shared.contracts.iplos import VERSIONS as IPLOS_VERSIONS
from hjemflyt.shared.identity import Month40Meaning


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


# Development-only key material. Anything derived from these must never reach production,
# which `_refuse_dev_secrets` enforces.
DEV_PII_KEY = base64.urlsafe_b64encode(b"hjemflyt-development-pii-key-32b").decode()
DEV_PII_INDEX_KEY = base64.urlsafe_b64encode(b"hjemflyt-development-index-key32").decode()
DEV_BUS_PII_KEY = base64.urlsafe_b64encode(b"hjemflyt-development-bus-key-32b").decode()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HJEMFLYT_", extra="ignore")

    env: Environment = Environment.development
    service: str = Field(default="", description="Name of the running service (assessment, pathway, ...).")
    log_level: str = "INFO"

    # Infrastructure. Empty URLs mean "use the embedded servers" (dev stack and tests only).
    database_url: str = Field(default="", description="postgresql+asyncpg://user:pass@host:port/db")
    database_pool_size: int = 10
    nats_url: str = Field(default="", description="nats://host:port, comma-separated for a cluster")
    bus_namespace: str = Field(
        default="hjemflyt",
        description="Root of every subject and prefix of every stream; lets environments share a cluster.",
    )
    nats_stream_replicas: int = Field(default=1, ge=1, le=5)
    data_dir: Path = Field(default=Path(".hjemflyt"), description="Where the embedded servers keep data.")

    # Outbox relay and consumers.
    outbox_batch_size: int = 200
    outbox_poll_seconds: float = 1.0
    consumer_max_deliver: int = Field(default=8, ge=2)
    consumer_ack_wait_seconds: float = 30.0
    consumer_backoff_seconds: list[float] = Field(default=[1, 5, 15, 60, 300, 900, 1800])
    consumer_batch_size: int = 64

    # Authentication: an OIDC-style issuer. In development the dev issuer's JWKS file is used.
    jwt_issuer: str = "https://dev-issuer.hjemflyt.local"
    jwt_audience: str = "hjemflyt"
    jwt_algorithms: list[str] = Field(default=["RS256"])
    jwt_jwks_url: str = ""
    jwt_jwks_file: Path | None = None
    jwt_leeway_seconds: int = 30

    # Protection of identity numbers at rest: AES-GCM key and an HMAC key for lookups.
    pii_key: SecretStr = SecretStr(DEV_PII_KEY)
    pii_index_key: SecretStr = SecretStr(DEV_PII_INDEX_KEY)
    bus_pii_key: SecretStr | None = Field(
        default=None,
        description=(
            "Seals the personal data of provider orders on the bus: give it to assessment and "
            "notifications only (32 bytes, url-safe base64). Unset outside production: a development key."
        ),
    )

    identity_month40: Month40Meaning = Field(
        default=Month40Meaning.h_number,
        description="What month + 40 in an identity number means here: an H-number or a NAV synthetic number",
    )

    tenant: str = Field(default="0301", pattern=r"^\d{4}$", description="kommunenummer of this deployment")

    # The yearly IPLOS report (assessment).
    iplos_function_codes: str = Field(
        default="",
        description=(
            "The register's variable codes (fnFunkType) for the IPLOS function variables: a JSON "
            'object, e.g. {"housework": 12, ...}, or the path of a file holding one. Keys are '
            "hjemflyt's variable keys (GET /assessment/v1/iplos/function-variables), values the "
            "numbers of the directorate's published code list. Unset (the default): no function "
            "scores are written to the report and it says `function-codes-missing`. A variable left "
            "out keeps its scores out of the file, and is named in that same problem."
        ),
    )

    # Provider API credentials (OAuth2 client credentials at notifications' POST /v1/token).
    # The signing key's public half must be in the JWKS every service trusts; unset outside
    # production, the development issuer's key beside `jwt_jwks_file` is used.
    provider_token_key_file: Path | None = Field(
        default=None, description="PEM private key (RSA) that signs provider access tokens"
    )
    provider_token_kid: str = Field(
        default="", description="kid of that key in the JWKS; empty: its RFC 7638 thumbprint"
    )
    provider_token_ttl_seconds: int = Field(default=15 * 60, ge=60, le=3600)
    provider_token_failures_per_minute: int = Field(
        default=20, ge=1, description="Failed client authentications per caller address and minute"
    )
    provider_credentials_max_active: int = Field(default=5, ge=1, le=50)

    # The district routine registry.
    routine_ack_days: int = Field(default=7, ge=1, description="Days a provider has to acknowledge a routine")
    routine_reminder_after_days: int = Field(
        default=3, ge=1, description="Remind a provider that has not acknowledged after this many days"
    )
    routine_reminder_interval_days: int = Field(
        default=2, ge=1, description="At most one reminder per interval"
    )
    routine_sweep_seconds: float = Field(default=60.0, gt=0, description="How often the reminder sweep runs")

    decision_sweep_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often assessment starts decisions on their start date and ends expired ones.",
    )

    # National health messages (PLO, MsgHead, AppRec) with GPs and hospitals (assessment).
    plo_municipality_name: str = Field(default="Hjemflyt kommune", description="Sender organisation name.")
    plo_municipality_her_id: str = Field(
        default="99387", pattern=r"^[0-9]{1,9}$", description="The municipality's HER-id (top of the sender)."
    )
    plo_case_office_name: str = Field(default="Tildelingskontoret", description="Sends decisions' messages.")
    plo_case_office_her_id: str = Field(
        default="5078", pattern=r"^[0-9]{1,9}$", description="HER-id of the case office communication party."
    )
    plo_nursing_service_name: str = Field(default="Hjemmesykepleien")
    plo_nursing_service_her_id: str = Field(
        default="5079",
        pattern=r"^[0-9]{1,9}$",
        description="HER-id of the nursing service communication party.",
    )
    plo_transport: str = Field(
        default="directory",
        pattern=r"^(directory|http)$",
        description="Message transport: `directory` (files; make run, tests) or `http` (a message service).",
    )
    plo_directory: Path | None = Field(
        default=None,
        description="Folder with outbox/ and inbox/ for the directory transport (default data_dir/plo).",
    )
    plo_http_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s]+$",
        description="Base URL of the message service (NHN Meldingstjener API v2) for the http transport.",
    )
    plo_http_token: SecretStr | None = Field(
        default=None, description="Bearer token for the message service (HelseID token from your gateway)."
    )
    plo_http_source_system: str = Field(
        default="hjemflyt", max_length=100, description="`nhn-source-system` header: who is calling."
    )
    plo_http_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    plo_receipt_hours: float = Field(
        default=24, gt=0, description="A sent message without an AppRec after this many hours raises a task."
    )
    plo_poll_seconds: float = Field(default=5.0, gt=0, description="How often messages are sent and read.")
    plo_worker_enabled: bool = Field(
        default=True, description="Run the PLO message worker in this process (off: API-only replicas)."
    )

    # Provider messaging (notifications): acknowledgement deadlines and webhook delivery.
    order_ack_hours: float = Field(
        default=48, gt=0, description="Hours a provider has to accept or reject a new or changed order."
    )
    ack_sweep_seconds: float = Field(
        default=30.0, gt=0, description="How often overdue acknowledgements are looked for."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60, description="Per webhook POST.")
    webhook_retry_hours: float = Field(
        default=24, ge=24, description="A message is retried at least this long before it is dead."
    )
    webhook_backoff_base_seconds: float = Field(default=5.0, gt=0)
    webhook_backoff_cap_seconds: float = Field(
        default=3600.0, gt=0, description="Longest wait between tries."
    )
    webhook_lease_seconds: float = Field(
        default=60.0, gt=0, description="A claimed message is tried again after this if its worker died."
    )
    webhook_concurrency: int = Field(default=16, ge=1, le=256, description="POSTs in flight per replica.")
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_delivery_enabled: bool = Field(
        default=True, description="Run the webhook delivery worker in this process (off: API-only replicas)."
    )
    webhook_allow_private_addresses: bool | None = Field(
        default=None,
        description="May webhook URLs point at private or loopback addresses? Default: not in production.",
    )
    webhook_require_https: bool | None = Field(
        default=None, description="Must webhook URLs be https? Default: in production."
    )

    # HTTP.
    root_path: str = Field(default="", description="Path prefix the gateway serves this service under.")
    dev_clock_control: bool = Field(
        default=False, description="Expose POST /_dev/clock to move time (never in production)."
    )
    clock_shift_seconds: float = Field(
        default=0.0,
        description=(
            "Run the service's clock this many seconds ahead of the system clock (negative: behind); "
            "never in production. The test suite sets it from HJEMFLYT_TEST_TODAY so that the tests "
            "and every service live on one pinned day."
        ),
    )

    # Gateway (Caddy, deploy/Caddyfile), the portal behind it, and the dev stack.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    portal_host: str = "127.0.0.1"
    portal_port: int = 8105
    assessment_url: str = "http://127.0.0.1:8101"
    pathway_url: str = "http://127.0.0.1:8102"
    budget_url: str = "http://127.0.0.1:8103"
    notifications_url: str = "http://127.0.0.1:8104"

    @model_validator(mode="after")
    def _transport_complete(self) -> Settings:
        if self.plo_transport == "http" and not self.plo_http_url:
            raise ValueError("HJEMFLYT_PLO_TRANSPORT=http needs HJEMFLYT_PLO_HTTP_URL")
        return self

    @model_validator(mode="after")
    def _check_iplos_function_codes(self) -> Settings:
        self.iplos_register_codes()  # a bad mapping stops the process at start, not at report time
        return self

    def iplos_register_codes(self) -> dict[str, int] | None:
        """`iplos_function_codes` read: variable key to fnFunkType; None when unset."""
        return parse_iplos_function_codes(self.iplos_function_codes)

    @model_validator(mode="after")
    def _refuse_dev_secrets(self) -> Settings:
        if self.env == Environment.production:
            problems = []
            if self.pii_key.get_secret_value() == DEV_PII_KEY:
                problems.append("HJEMFLYT_PII_KEY is the development key")
            if self.pii_index_key.get_secret_value() == DEV_PII_INDEX_KEY:
                problems.append("HJEMFLYT_PII_INDEX_KEY is the development key")
            if self.bus_pii_key is not None and self.bus_pii_key.get_secret_value() == DEV_BUS_PII_KEY:
                problems.append("HJEMFLYT_BUS_PII_KEY is the development key")
            if self.dev_clock_control:
                problems.append("HJEMFLYT_DEV_CLOCK_CONTROL must be off")
            if self.clock_shift_seconds:
                problems.append("HJEMFLYT_CLOCK_SHIFT_SECONDS must be 0")
            if not self.database_url or not self.nats_url:
                problems.append("HJEMFLYT_DATABASE_URL and HJEMFLYT_NATS_URL are required")
            if not self.jwt_jwks_url:
                problems.append("HJEMFLYT_JWT_JWKS_URL must point at the identity provider")
            if self.jwt_issuer == Settings.model_fields["jwt_issuer"].default:
                problems.append("HJEMFLYT_JWT_ISSUER is the development issuer")
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def bus_key(self) -> str | None:
        """The bus key; the development key outside production; None where not given (a
        service that neither publishes nor reads personal data)."""
        if self.bus_pii_key is not None:
            return self.bus_pii_key.get_secret_value()
        return None if self.env == Environment.production else DEV_BUS_PII_KEY

    def service_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url"))


FN_FUNK_TYPE_MAX = 32767  # fnFunkType is an xs:short in the IPLOS 2018 schema


def parse_iplos_function_codes(value: str) -> dict[str, int] | None:
    """A JSON object of variable key to register code, given inline or as the path of a file.
    Every key must be a variable of some IPLOS code list version, every code a whole number
    the schema takes (1-32767), and no two variables may share a code."""
    text = value.strip()
    if not text:
        return None
    if not text.startswith(("{", "[")):  # else a path
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"HJEMFLYT_IPLOS_FUNCTION_CODES: cannot read {path}: {exc.strerror}") from exc
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"HJEMFLYT_IPLOS_FUNCTION_CODES is not JSON: {exc.msg}") from exc
    if not isinstance(raw, dict):
        raise ValueError("HJEMFLYT_IPLOS_FUNCTION_CODES must be a JSON object: variable key to code")
    known = {v.key for version in IPLOS_VERSIONS.values() for v in version.variables}
    problems: list[str] = []
    codes: dict[str, int] = {}
    for key, code in raw.items():
        if key not in known:
            problems.append(f"{key!r} is not an IPLOS function variable")
        elif isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= FN_FUNK_TYPE_MAX:
            problems.append(f"{key!r}: the code must be a whole number 1-{FN_FUNK_TYPE_MAX}, not {code!r}")
        else:
            codes[key] = code
    shared = sorted({c for c in codes.values() if list(codes.values()).count(c) > 1})
    if shared:
        problems.append(f"codes used for more than one variable: {', '.join(map(str, shared))}")
    if problems:
        raise ValueError("HJEMFLYT_IPLOS_FUNCTION_CODES: " + "; ".join(problems))
    return codes


SERVICES: tuple[str, ...] = ("assessment", "pathway", "budget", "notifications")


@lru_cache
def get_settings() -> Settings:
    return Settings()
