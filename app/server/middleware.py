"""Two checks made before a request body is read (pure ASGI, so an upload is refused
before a byte of it is stored): the bearer token, and the body size limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.server.bearer import matches
from app.server.errors import TOO_LARGE, UNAUTHORIZED

# Paths anyone may GET: the health check, and the API's own description (no data in it;
# a browser opening /docs cannot send the token, the page's Authorize button asks for it).
OPEN_PATHS = ("/v1/health", "/docs", "/openapi.json")
OPEN_PREFIXES = ("/docs/",)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequireToken:
    def __init__(self, app: ASGIApp, token: str, token_file: str) -> None:
        self.app = app
        self.token = token
        self.token_file = token_file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope):
            await self.app(scope, receive, send)
            return
        scheme, _, value = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not matches(value.strip(), self.token):
            await _send_error(
                send,
                401,
                UNAUTHORIZED,
                f"missing or wrong API token: send 'Authorization: Bearer TOKEN' with the "
                f"token in {self.token_file}",
            )
            return
        await self.app(scope, receive, send)


def _is_open(scope: Scope) -> bool:
    path = scope.get("path", "")
    return scope.get("method") in ("GET", "HEAD") and (
        path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)
    )


class LimitBody:
    """At most `limit_for(path)` bytes of body: 413 at once when Content-Length says more,
    else when the stream goes past it (a chunked upload)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_error(send, 413, TOO_LARGE, too_large_message(int(declared), limit))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI passes an HTTPException raised while reading the body on to
                    # the handlers (errors.py turns it into {"code": "too_large"}).
                    raise HTTPException(413, too_large_message(received, limit))
            return message

        await self.app(scope, limited, send)


def too_large_message(size: int, limit: int) -> str:
    return f"request body of {_mb(size)} is over this server's limit of {_mb(limit)}"


def _mb(n: int) -> str:
    return f"{n / 1048576:.1f} MiB" if n >= 1048576 else f"{n} bytes"
