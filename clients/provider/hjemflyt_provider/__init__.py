"""Reference client for a provider's system talking to hjemflyt.

- `signature`: verify (and, for tests, make) the `Hjemflyt-Signature` of a webhook.
- `receiver`: a small ASGI app that receives webhooks, checks them, drops replays and
  duplicates, and hands each message to your code once.
- `client`: the provider API: token, inbox, acknowledgements, start, visits, reports.

It depends on httpx only, so it can be copied into any provider's code base. See
docs/provider-integration.md in the hjemflyt repository.
"""

from hjemflyt_provider.client import ApiError, ProviderClient
from hjemflyt_provider.receiver import Delivery, WebhookReceiver
from hjemflyt_provider.signature import InvalidSignature, sign, verify

__all__ = [
    "ApiError",
    "Delivery",
    "InvalidSignature",
    "ProviderClient",
    "WebhookReceiver",
    "sign",
    "verify",
]
