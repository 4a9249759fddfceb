"""ApiClient: the only HTTP code in the console; asynchronous, problem+json becomes ApiError."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QByteArray, QObject, QUrl
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

TIMEOUT_MS = 10_000

OnSuccess = Callable[[Any], None]
OnError = Callable[["ApiError"], None]


@dataclass
class ApiError(Exception):
    """A failed API call: HTTP status (0 when no answer), detail, field errors, the problem body."""

    status: int
    detail: str
    type: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    request_id: str | None = None
    problem: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail

    def field_errors(self) -> dict[str, str]:
        """Messages by field name, for showing next to inputs."""
        return {e.get("field", ""): e.get("message", "") for e in self.errors}


def _error_from_reply(status: int, body: bytes, network_error: str) -> ApiError:
    if status == 0:
        return ApiError(0, f"The backend did not answer: {network_error}", type="network")
    try:
        problem = json.loads(body)
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    return ApiError(
        status=status,
        detail=str(problem.get("detail") or f"HTTP {status}"),
        type=str(problem.get("type", "")),
        errors=list(problem.get("errors") or []),
        request_id=problem.get("request_id"),
        problem=problem,
    )


def _receiver_alive(callback: Callable[..., object]) -> bool:
    receiver = getattr(callback, "__self__", None)
    return not isinstance(receiver, QObject) or shiboken6.isValid(receiver)


class ApiClient(QObject):
    """Typed, non-blocking calls to the Outpost API; results arrive through callbacks."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = QNetworkAccessManager(self)
        self._in_flight: set[QNetworkReply] = set()
        self._closed = False
        self.base_url = ""

    def close(self) -> None:
        """Abandon every request in flight (their callbacks never run) and refuse new ones."""
        self._closed = True
        for reply in list(self._in_flight):
            reply.finished.disconnect()
            reply.abort()
            reply.deleteLater()
        self._in_flight.clear()

    def set_base_url(self, url: str) -> None:
        """Point the client at a backend, e.g. http://127.0.0.1:8765."""
        self.base_url = url.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        body: Any = None,
    ) -> QNetworkReply | None:
        """Send one request; exactly one of the callbacks runs later on the GUI thread."""
        if self._closed:
            return None
        if not self.base_url:
            if on_error:
                on_error(ApiError(0, "No backend is connected yet.", type="network"))
            return None
        request = QNetworkRequest(QUrl(self.base_url + path))
        request.setTransferTimeout(TIMEOUT_MS)
        request.setRawHeader(b"Accept", b"application/json, application/problem+json")
        payload = QByteArray()
        if body is not None:
            request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/json")
            payload = QByteArray(json.dumps(body).encode())
        reply = self._manager.sendCustomRequest(request, method.encode(), payload)
        self._in_flight.add(reply)
        reply.finished.connect(lambda: self._finish(reply, on_success, on_error))
        return reply

    def _finish(self, reply: QNetworkReply, on_success: OnSuccess, on_error: OnError | None) -> None:
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute) or 0
        body = bytes(reply.readAll().data())
        network_error = reply.errorString()
        reply.deleteLater()
        self._in_flight.discard(reply)
        if not _receiver_alive(on_success):
            return  # the page that asked was closed while the request was in flight
        if 200 <= status < 300:
            try:
                data = json.loads(body) if body else None
            except ValueError:
                if on_error:
                    on_error(ApiError(status, "The backend sent a reply that is not JSON.", type="decode"))
                return
            on_success(data)
        elif on_error:
            on_error(_error_from_reply(status, body, network_error))

    def get(self, path: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """GET path."""
        return self.request("GET", path, on_success, on_error)

    def health(self, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET /health: {status, version}."""
        self.get("/health", on_success, on_error)

    def ready(self, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET /ready: {status, checks}; a 503 carries the checks in the ApiError's problem."""
        self.get("/ready", on_success, on_error)

    def system(self, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET /api/v1/system: version, data dir, database size, schema revision."""
        self.get("/api/v1/system", on_success, on_error)
