"""The event catalogue: an AsyncAPI 3.0 document generated from the event registry."""

from __future__ import annotations

import json
from typing import Any

from hjemflyt.shared.contracts import events as _events  # noqa: F401  (registers the event types)
from hjemflyt.shared.contracts.envelope import CloudEvent
from hjemflyt.shared.contracts.registry import REGISTRY


def asyncapi_document(namespace: str = "hjemflyt") -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas_out: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEvent": _strip_defs(CloudEvent.model_json_schema(), schemas_out)}
    for name, event_type in sorted(REGISTRY.items()):
        key = name.replace(".", "_")
        payload = event_type.model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas[event_type.model.__name__] = _strip_defs(payload, schemas_out)
        messages[key] = {
            "name": name,
            "title": name,
            "summary": event_type.description,
            "contentType": "application/cloudevents+json",
            "headers": {
                "type": "object",
                "properties": {"Nats-Msg-Id": {"type": "string", "description": "= CloudEvent id"}},
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/CloudEvent"},
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": name},
                            "dataschema": {"const": event_type.dataschema},
                            "data": {"$ref": f"#/components/schemas/{event_type.model.__name__}"},
                        },
                    },
                ]
            },
            "x-personal-data": event_type.personal_data,
        }
        channels[key] = {
            "address": event_type.subject(namespace, "{tenant}"),
            "parameters": {"tenant": {"description": "kommunenummer, e.g. 0301"}},
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"publish_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"Published by {event_type.service} through its transactional outbox",
        }
    schemas.update(schemas_out)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "hjemflyt events",
            "version": "1",
            "description": "CloudEvents 1.0 (structured JSON) on NATS JetStream. One stream per producing "
            "service; consumers are durable, idempotent (inbox) and ignore unknown fields. "
            "An incompatible change is a new `.vN` type.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _strip_defs(schema: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    """Move nested `$defs` into components/schemas so every $ref resolves there."""
    for def_name, definition in schema.pop("$defs", {}).items():
        out[def_name] = definition
    return schema


def main() -> None:
    print(json.dumps(asyncapi_document(), indent=2, ensure_ascii=False))  # noqa: T201
