"""Routes that read their own JSON body (bulk imports, visit batches): they validate it in one
pass (or item by item) themselves, so FastAPI does not parse it; these two helpers give
them the body within a limit and an OpenAPI request body all the same."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request

from hjemflyt.shared.platform.errors import PayloadTooLarge


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The whole body, refused with 413 as soon as it passes `max_bytes`, with or without a
    Content-Length (a chunked body is counted as it arrives)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes; send smaller batches.")
        chunks.append(chunk)
    return b"".join(chunks)


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring `model` as the operation's required JSON body, its `$defs`
    resolved in place (the models are not recursive) so it stands inside the operation."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]))
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": resolve(schema)}}}}
