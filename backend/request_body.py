"""Request bodies: how large and how deeply nested a JSON body may be before it is decoded."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from litestar import Litestar, Request
from litestar.routes import HTTPRoute
from litestar.types import Empty

from backend.errors import BadRequest

# The largest valid body of this API (a role with 200 permissions of up to 200 characters) fits in 64 KiB;
# a larger one is refused while it is read, so it never costs more memory than this.
JSON_BODY_LIMIT = 64 * 1024
# Credentials, refresh tokens and passwords: the largest valid one (an email of 254 and a password of
# 1024 characters, each written as a 12-byte JSON escape at worst) fits in 16 KiB.
SMALL_BODY_LIMIT = 16 * 1024
# No body of this API nests beyond a few levels; msgspec would recurse ~1000 deep and then fail.
MAX_JSON_DEPTH = 32

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_nesting_depth(body: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (brackets inside strings do not count)."""
    # Without a backslash no string holds a quote, so the strings are every other piece between quotes:
    # cut out in C, five times faster than the regular expression on a batch of a thousand records.
    outside = _JSON_STRING.sub(b"", body) if b"\\" in body else b"".join(body.split(b'"')[::2])
    brackets = outside.translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class OutpostRequest(Request[Any, Any, Any]):
    """A request whose JSON body is refused (400) when nested too deeply, before the decoder recurses."""

    async def json(self) -> Any:
        if self._json is Empty and self._connection_state.json is Empty:  # not decoded yet
            body = await self.body()
            # Fewer openers than the limit cannot nest past it: most bodies are spared the count.
            if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and json_nesting_depth(body) > MAX_JSON_DEPTH:
                raise BadRequest(
                    f"The request body is not valid JSON: it is nested too deeply (over {MAX_JSON_DEPTH})."
                )
        return await super().json()


UPLOAD = "upload"  # route opt: the body is a file, streamed to disk, under max_upload_bytes


def cap_body_limits(app: Litestar, ceiling: int, upload_ceiling: int) -> None:
    """Hold every route's own body limit to the configured ceiling (max_body_bytes); uploads get theirs."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                if handler.opt.get(UPLOAD):
                    handler.request_max_body_size = upload_ceiling
                    continue
                limit = handler.request_max_body_size
                if isinstance(limit, int) and limit > ceiling:
                    handler.request_max_body_size = ceiling
