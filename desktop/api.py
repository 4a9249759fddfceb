"""ApiClient: the only HTTP code in the console; asynchronous, problem+json becomes ApiError."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import shiboken6
from PySide6.QtCore import QByteArray, QFile, QIODevice, QObject, QTimer, QUrl, Signal
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from desktop.api_error import ApiError, error_from_reply
from desktop.api_jobs import JobCalls
from desktop.file_sink import FileSink

TIMEOUT_MS = 10_000
BUSY_RETRIES = 5  # a 503 with Retry-After (a restore swapping the database, the writer busy) is asked again
LONGEST_RETRY_AFTER_S = 30  # a longer wait is the page's to report, not the client's to sit through
UPLOAD_TIMEOUT_MS = 120_000  # a large file's last bytes may wait on the backend's disk before the answer comes

OnSuccess = Callable[[Any], None]
OnError = Callable[["ApiError"], None]
OnProgress = Callable[[int, int], None]  # bytes received, bytes in all (-1 while unknown)


@dataclass
class Session:
    """The signed-in person's tokens (kept in memory only) and email."""

    email: str
    access_token: str
    refresh_token: str


@dataclass
class _Call:
    """A request, kept so that it can be sent again after a token refresh."""

    method: str
    path: str
    on_success: OnSuccess
    on_error: OnError | None
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    retried: bool = False
    busy_retries: int = 0  # how often a 503 with Retry-After sent this call again
    sent_with: str | None = None  # the access token the call went out with
    raw: bool = False  # on_success gets the reply's bytes undecoded (big pages are decoded off the GUI thread)
    sink: FileSink | None = None  # a download: a 2xx body goes to this file as it arrives; on_success gets its path
    on_progress: OnProgress | None = None  # a download's bytes received, or an upload's bytes sent
    upload: Path | None = None  # an upload: the request's body is this file, read from disk as it is sent


# Calls that must never carry or trigger a refresh: they are how a session starts or renews.
NO_REFRESH_PATHS = ("/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/setup")


def _receiver_alive(callback: Callable[..., object]) -> bool:
    receiver = getattr(callback, "__self__", None)
    return not isinstance(receiver, QObject) or shiboken6.isValid(receiver)


def _retry_after_ms(reply: QNetworkReply) -> int | None:
    """A reply's Retry-After in milliseconds when it is a whole number of seconds the client may wait, else None."""
    value = bytes(reply.rawHeader("Retry-After").data()).decode("ascii", "replace").strip()
    if not value.isdigit() or int(value) > LONGEST_RETRY_AFTER_S:
        return None
    return int(value) * 1000


def _succeeding(reply: QNetworkReply) -> bool:
    """Whether the reply's status, once its headers are in, is a 2xx."""
    status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute) or 0
    return 200 <= int(status) < 300


class ApiClient(QObject, JobCalls):
    """Typed, non-blocking calls to the Outpost API; results arrive through callbacks.

    A signed-in session's access token goes on every call. When one comes back 401, the client
    refreshes once (one refresh at a time: the others wait for it) and sends the waiting calls again;
    if the refresh fails, the session is over and `signed_out` tells the window to ask for a login.
    """

    signed_in = Signal(str)  # email
    signed_out = Signal(str)  # why
    wrote = Signal(str, str, object)  # method, path, body: after a write the backend accepted

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._manager = QNetworkAccessManager(self)
        self._in_flight: set[QNetworkReply] = set()
        self._closed = False
        self.base_url = ""
        self.session: Session | None = None
        self._refreshing = False
        self._waiting: list[_Call] = []

    def start_session(self, email: str, tokens: dict[str, Any]) -> None:
        """Keep the tokens of a sign-in and announce it."""
        self.session = Session(email, str(tokens["access_token"]), str(tokens["refresh_token"]))
        self.signed_in.emit(email)

    def renew_session(self, tokens: dict[str, Any]) -> None:
        """Keep the new tokens the backend gave this session (after a password change)."""
        if self.session is not None:
            self.session.access_token = str(tokens["access_token"])
            self.session.refresh_token = str(tokens["refresh_token"])

    def end_session(self, reason: str) -> None:
        """Forget the tokens; calls waiting on a refresh fail with reason."""
        if self.session is None:
            return
        self.session = None
        waiting, self._waiting = self._waiting, []
        for call in waiting:
            if call.on_error and _receiver_alive(call.on_success):
                call.on_error(ApiError(401, reason, type="signed-out"))
        self.signed_out.emit(reason)

    def sign_out(self) -> None:
        """End the session on the backend too (best effort) and locally at once."""
        if self.session is not None:
            self.request("POST", "/api/v1/auth/logout", lambda _d: None, lambda _e: None)
        self.end_session("You signed out.")

    def close(self) -> None:
        """Abandon every request in flight (their callbacks never run) and refuse new ones."""
        self._closed = True
        for reply in list(self._in_flight):
            reply.finished.disconnect()
            reply.abort()
            reply.deleteLater()
        self._in_flight.clear()

    def set_base_url(self, url: str) -> None:
        """Point the client at a backend, e.g. http://127.0.0.1:8765; at none with "" (calls then fail at once)."""
        self.base_url = url.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> QNetworkReply | None:
        """Send one request (with these extra headers); exactly one of the callbacks runs later on the GUI thread."""
        return self._send(_Call(method, path, on_success, on_error, body, dict(headers or {})))

    def _send(self, call: _Call) -> QNetworkReply | None:
        if self._closed:
            return None
        if not self.base_url:
            if call.on_error:
                call.on_error(ApiError(0, "No backend is connected.", type="network"))
            return None
        if self._refreshing and self._renewable(call):
            self._waiting.append(call)  # sent with the new token once the refresh is back
            return None
        method, path, body = call.method, call.path, call.body
        request = QNetworkRequest(QUrl(self.base_url + path))
        request.setTransferTimeout(TIMEOUT_MS)
        request.setRawHeader(b"Accept", b"application/json, application/problem+json")
        for name, value in call.headers.items():
            request.setRawHeader(name.encode(), value.encode())
        if self.session is not None and not path.startswith(NO_REFRESH_PATHS):
            call.sent_with = self.session.access_token
            request.setRawHeader(b"Authorization", f"Bearer {self.session.access_token}".encode())
        if call.upload is not None:
            reply = self._send_file(request, call)
            if reply is None:
                return None
        else:
            payload = QByteArray()
            if body is not None:
                request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/json")
                payload = QByteArray(json.dumps(body).encode())
            reply = self._manager.sendCustomRequest(request, method.encode(), payload)
        self._in_flight.add(reply)
        reply.finished.connect(lambda: self._finish(reply, call))
        if call.sink is not None:
            reply.readyRead.connect(lambda: self._drain(reply, call))
            if call.on_progress is not None:
                progress = call.on_progress
                reply.downloadProgress.connect(lambda received, total: _succeeding(reply) and progress(received, total))
        return reply

    def _send_file(self, request: QNetworkRequest, call: _Call) -> QNetworkReply | None:
        """Send call.upload as the body, read from disk in chunks as the network takes them (never whole in memory).

        The file is opened afresh for each sending, so a call sent again after a token refresh starts at its
        first byte; it belongs to the reply and closes with it.
        """
        assert call.upload is not None
        source = QFile(str(call.upload))
        if not source.open(QIODevice.OpenModeFlag.ReadOnly):
            if call.on_error:
                call.on_error(ApiError(0, f"Cannot read {call.upload}: {source.errorString()}", type="file"))
            return None
        request.setTransferTimeout(UPLOAD_TIMEOUT_MS)
        request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, "application/octet-stream")
        request.setHeader(QNetworkRequest.KnownHeaders.ContentLengthHeader, source.size())
        reply = self._manager.sendCustomRequest(request, call.method.encode(), source)
        source.setParent(reply)
        if call.on_progress is not None:
            progress = call.on_progress
            # Qt says (0, 0) once the body is all out: not news, and it would read as a restart.
            reply.uploadProgress.connect(lambda sent, total: (sent or total) and progress(sent, total))
        return reply

    def _drain(self, reply: QNetworkReply, call: _Call) -> None:
        """A download's bytes so far into its file; an error reply's body stays for _finish to read."""
        assert call.sink is not None
        if _succeeding(reply) and call.sink.error is None and not call.sink.write(bytes(reply.readAll().data())):
            reply.abort()  # the disk refused: stop fetching what cannot be kept

    def _renewable(self, call: _Call) -> bool:
        return self.session is not None and not call.path.startswith(NO_REFRESH_PATHS)

    def _refresh(self) -> None:
        """Trade the refresh token for new ones, once, then resend what waited."""
        session = self.session
        if session is None or self._refreshing:
            return
        self._refreshing = True

        def renewed(tokens: Any) -> None:
            self._refreshing = False
            if self.session is not session:
                return
            session.access_token, session.refresh_token = str(tokens["access_token"]), str(tokens["refresh_token"])
            waiting, self._waiting = self._waiting, []
            for call in waiting:
                self._send(call)

        def failed(error: ApiError) -> None:
            self._refreshing = False
            if error.status == 0:  # the backend is away, the session may still be good: fail these calls only
                waiting, self._waiting = self._waiting, []
                for call in waiting:
                    if call.on_error:
                        call.on_error(error)
                return
            self.end_session("Your session has ended; sign in again.")

        self.request("POST", "/api/v1/auth/refresh", renewed, failed, body={"refresh_token": session.refresh_token})

    def _finish(self, reply: QNetworkReply, call: _Call) -> None:
        on_success, on_error = call.on_success, call.on_error
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute) or 0
        body = bytes(reply.readAll().data())
        network_error = reply.errorString()
        retry_after_ms = _retry_after_ms(reply) if status == 503 else None
        if reply.error() != QNetworkReply.NetworkError.NoError and 200 <= status < 300:
            status = 0  # the headers came but the connection broke (a backend killed mid-reply): no answer
        reply.deleteLater()
        self._in_flight.discard(reply)
        if not _receiver_alive(on_success):
            if call.sink is not None:
                call.sink.discard()
            return  # the page that asked was closed while the request was in flight
        if status == 401 and self._renewable(call) and not call.retried:
            call.retried = True
            assert self.session is not None
            if call.sent_with != self.session.access_token:
                self._send(call)  # a refresh happened while this call was out: just send it again
                return
            self._waiting.append(call)
            self._refresh()
            return
        if retry_after_ms is not None and call.busy_retries < BUSY_RETRIES:
            # Answered before any work was done ("ask again in a moment"): the page sees the answer that follows.
            call.busy_retries += 1
            QTimer.singleShot(retry_after_ms, self, lambda: self._send(call))
            return
        if call.sink is not None:
            self._finish_download(call, status, body, network_error)
        elif 200 <= status < 300 and call.raw:
            on_success(body)
        elif 200 <= status < 300:
            try:
                data = json.loads(body) if body else None
            except ValueError:
                if on_error:
                    on_error(ApiError(status, "The backend sent a reply that is not JSON.", type="decode"))
                return
            on_success(data)
            if call.method != "GET":
                self.wrote.emit(call.method, call.path, call.body)
        elif on_error:
            on_error(error_from_reply(status, body, network_error))

    @staticmethod
    def _finish_download(call: _Call, status: int, body: bytes, network_error: str) -> None:
        """The file whole in place and its path to on_success; or the file untouched and the reason to on_error."""
        sink = call.sink
        assert sink is not None
        if 200 <= status < 300 and sink.error is None and sink.write(body) and sink.commit():
            call.on_success(sink.destination)
            return
        sink.discard()
        if call.on_error is None:
            return
        if sink.error is not None:
            call.on_error(ApiError(0, sink.error, type="file"))
        else:
            call.on_error(error_from_reply(status, body, network_error))

    def get(self, path: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """GET path."""
        return self.request("GET", path, on_success, on_error)

    def get_bytes(self, path: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """GET path; on_success gets the 2xx reply's body as bytes, for the caller to decode where it likes."""
        return self._send(_Call("GET", path, on_success, on_error, None, raw=True))

    def get_every_page(self, path: str, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET a list and each next page after it; on_success gets the first reply with every page's items."""
        separator = "&" if "?" in path else "?"
        collected: list[Any] = []
        first: dict[str, Any] = {}

        def page_loaded(data: Any) -> None:
            if not isinstance(data, dict):
                on_success(data)
                return
            if not first:
                first.update(data)  # the first page's other fields (the roles' catalogue, say)
            collected.extend(data.get("items") or [])
            cursor = data.get("next_cursor")
            if cursor:
                self.get(f"{path}{separator}{urlencode({'cursor': cursor})}", page_loaded, on_error)
            else:
                on_success({**first, "items": collected, "next_cursor": None})

        self.get(path, page_loaded, on_error)

    def health(self, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET /health: {status, version}."""
        self.get("/health", on_success, on_error)

    def ready(self, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET /ready: {status, checks}; a 503 carries the checks in the ApiError's problem."""
        self.get("/ready", on_success, on_error)

    def system(self, on_success: OnSuccess, on_error: OnError | None = None) -> None:
        """GET /api/v1/system: version, data dir, database size, schema revision."""
        self.get("/api/v1/system", on_success, on_error)

    def download(
        self,
        path: str,
        destination: Path,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        on_progress: OnProgress | None = None,
    ) -> QNetworkReply | None:
        """GET path into the file destination, written as it arrives and put in place whole at the end.

        Abort the returned reply to stop; on_error then runs and the destination is left as it was.
        """
        sink = FileSink(destination)
        if not sink.open():
            if on_error:
                on_error(ApiError(0, sink.error or "", type="file"))
            return None
        return self._send(_Call("GET", path, on_success, on_error, None, raw=True, sink=sink, on_progress=on_progress))

    def upload(
        self,
        path: str,
        source: Path,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        on_progress: OnProgress | None = None,
    ) -> QNetworkReply | None:
        """POST the file source as the request's body, streamed from disk; on_progress gets the bytes sent so far.

        Abort the returned reply to stop sending; on_error then runs. A file that cannot be read fails at once.
        """
        return self._send(_Call("POST", path, on_success, on_error, None, on_progress=on_progress, upload=source))
