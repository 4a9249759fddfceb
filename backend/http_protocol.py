"""uvicorn's HTTP/1.1 protocol with the defences it lacks: head limits, read deadlines, a connection cap.

uvicorn arms no timer until a first response completes, so a connection that sends nothing, or half
a request, stays open for ever; its parser (httptools) takes headers of any size; and what it refuses
it answers in text/plain. Here every refusal the server makes before the app runs is problem+json.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from backend.errors import PROBLEM_JSON, TYPE_PREFIX

logger = logging.getLogger("outpost.http")

_SLUGS = {
    400: "bad-request",
    408: "request-timeout",
    414: "uri-too-long",
    431: "header-fields-too-large",
    503: "unavailable",
}
_TITLES = {
    400: "Bad Request",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take to send a request and how much head it may send; how many may connect."""

    head_timeout_s: float = 10.0  # from the connection (or the request's first byte) to the end of its headers
    body_idle_timeout_s: float = 10.0  # the longest pause while a body is read
    max_url_bytes: int = 8 * 1024
    max_head_bytes: int = 32 * 1024  # request line and headers together
    max_connections: int = 1024


LINGER_S = 2.0  # after a refusal, how long the rest of the request is read and discarded

# asyncio accepts up to `backlog` sockets in one go before any protocol sees them, so a burst can pass the
# cap by that many before the extra connections are closed; it is also the listen queue's length.
ACCEPT_BACKLOG = 128
# File descriptors kept back from connections: the database, queue, cache and log files, the control
# socket, and two bursts of accepted sockets not yet turned away.
FD_HEADROOM = 128 + 2 * ACCEPT_BACKLOG


def raise_open_file_limit() -> int | None:
    """Raise this process's soft limit of open files to its hard limit; the limit now (None: not known here)."""
    try:
        import resource  # POSIX only
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # macOS refuses RLIM_INFINITY (its kernel caps at OPEN_MAX), so ask for a finite number there.
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            logger.info("could not raise the open file limit from %s", soft)
    return None if soft == resource.RLIM_INFINITY else soft


def connection_limits(open_file_limit: int | None) -> ConnectionLimits:
    """Limits whose connection cap stays below the open file limit, with room for the backend's own files."""
    default = ConnectionLimits()
    if open_file_limit is None:
        return default
    cap = max(16, min(default.max_connections, open_file_limit - FD_HEADROOM))
    return ConnectionLimits(max_connections=cap)


class HeadTooLarge(Exception):
    """The request line or headers passed their limit (raised inside a parser callback)."""


def problem_bytes(status: int, detail: str, default_headers: list[tuple[bytes, bytes]], *extra: bytes) -> bytes:
    """A complete HTTP/1.1 problem+json reply that closes the connection."""
    body = json.dumps(
        {"type": TYPE_PREFIX + _SLUGS[status], "title": _TITLES[status], "status": status, "detail": detail}
    ).encode()
    head = [STATUS_LINE[status]]
    head.extend(name + b": " + value + b"\r\n" for name, value in default_headers)
    head.append(b"content-type: " + PROBLEM_JSON.encode() + b"\r\n")
    head.append(b"content-length: " + str(len(body)).encode() + b"\r\n")
    head.extend(extra)
    head.append(b"connection: close\r\n\r\n")
    return b"".join(head) + body


class OutpostHttpProtocol(HttpToolsProtocol):
    """One HTTP/1.1 connection: a deadline while the request is read, limits on its head, problem+json refusals."""

    limits = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading_body = False
        self._in_head = True  # until this request's headers are complete
        self._head_bytes = 0  # of reads that fell wholly inside the current head
        self._header_bytes = 0  # of the current head's parsed header names and values
        self._message_begun = False
        self._heads_completed = 0
        self._last_read = self.loop.time()
        self._refusal: tuple[int, str] | None = None
        self._lingering = False

    @classmethod
    def with_limits(cls, limits: ConnectionLimits) -> type[OutpostHttpProtocol]:
        """This protocol with other limits (uvicorn builds protocols from a class and its config alone)."""
        return type(cls.__name__, (cls,), {"limits": limits})

    # Connection lifetime

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._evict_stalest():
            self._refuse(503, "The server has too many open connections; try again shortly.", b"retry-after: 1\r\n")
            return
        self._arm(self.limits.head_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # the rest of a refused request
        self._last_read = self.loop.time()
        heads_before = self._heads_completed
        super().data_received(data)
        if self._message_begun and self._deadline is None and not (self._lingering or self.transport.is_closing()):
            # A request left half read: its head or body gets its deadline now. One read usually holds a
            # whole request, which then costs no timer at all (two timers a request were a tenth of /health).
            self._arm(self.limits.head_timeout_s if self._in_head else self.limits.body_idle_timeout_s)
        if self._heads_completed != heads_before:
            return  # a head ended in this read; what follows it is counted by its own callbacks and reads
        # A head spread over many reads is counted here: httptools keeps a partial header in memory unbounded.
        if self._in_head and self._message_begun and not (self._lingering or self.transport.is_closing()):
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refusal = (431, f"The request line and headers exceed {self.limits.max_head_bytes} bytes.")
                self.send_400_response("")

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._message_begun, self._in_head, self._head_bytes, self._header_bytes = True, True, 0, 0
        # A later request on a kept-alive connection: its head's deadline is armed after this read, if needed.

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            self._refusal = (414, f"The request target exceeds {self.limits.max_url_bytes} bytes.")
            raise HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > self.limits.max_head_bytes:
            self._refusal = (431, f"The request line and headers exceed {self.limits.max_head_bytes} bytes.")
            raise HeadTooLarge

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._heads_completed += 1
        self._disarm()
        super().on_headers_complete()
        self._reading_body = True  # the body's deadline is armed after this read, if the body is not all here

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._message_begun = self._reading_body = False
        self._disarm()

    # Refusals

    def send_400_response(self, msg: str) -> None:
        """uvicorn's parser-error reply, as problem+json, with the status the failure deserves."""
        status, detail = self._refusal or (400, "The request is not valid HTTP/1.1.")
        self._refusal = None
        self._refuse(status, detail)

    def _refuse(self, status: int, detail: str, *extra: bytes) -> None:
        """Reply and close; a lingering close, so the client reads the reply rather than a reset."""
        self._disarm()
        if self.transport.is_closing() or self._lingering:
            return
        self.transport.write(problem_bytes(status, detail, self.server_state.default_headers, *extra))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        # Closing with unread input makes the kernel send RST, and the client loses the reply: send FIN,
        # discard what still arrives for a moment, then close.
        self.transport.write_eof()
        self._lingering = True
        self._deadline = self.loop.call_later(LINGER_S, self.transport.close)

    # Deadlines

    def _arm(self, delay_s: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(delay_s, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._reading_body:
            # An idle limit, not a total one: a large body that keeps arriving may take its time,
            # and a pause of our own making (reading paused until the app takes the body) is no stall.
            remaining = self._last_read + self.limits.body_idle_timeout_s - self.loop.time()
            if self.flow.read_paused:
                remaining = self.limits.body_idle_timeout_s
            if remaining > 0:
                self._deadline = self.loop.call_later(remaining, self._deadline_passed)
                return
        self._close_stalled()

    def _close_stalled(self) -> None:
        """End a connection that is idle or stalled: a 408 for a half-sent head, silence otherwise."""
        logger.debug("closing a stalled connection from %s", self.client)
        if self._message_begun and self._in_head:
            self._refuse(408, "The request was not sent in time.")
        else:
            self._disarm()
            self.transport.close()

    def _is_waiting_for_client(self) -> bool:
        """Idle, or reading a request the app has not been given yet: safe to close."""
        if self._lingering or self.transport.is_closing():
            return False
        between_requests = self.cycle is None or self.cycle.response_complete
        return between_requests and (self._in_head or not self._message_begun)

    def _evict_stalest(self) -> bool:
        """Make room by closing the connection that has waited longest on its client; whether one was found."""
        waiting = [
            other
            for other in self.connections
            if other is not self and isinstance(other, OutpostHttpProtocol) and other._is_waiting_for_client()
        ]
        if not waiting:
            return False
        # Closed outright, no 408 and no lingering: its file descriptor is what the new connection needs.
        min(waiting, key=lambda other: other._last_read).abandon()
        return True

    def abandon(self) -> None:
        """Close this connection at once, whatever it was doing."""
        self._disarm()
        self.transport.close()
