"""A real `outpost serve` against hostile connections and bodies: raw sockets, hundreds at once."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from backend.http_protocol import ConnectionLimits
from tests.backend_process import SOURCE_PROGRAM, BackendProcess
from tests.waiting import wait_until

LIMITS = ConnectionLimits()
# The server closes an idle or stalled connection after its head deadline; allow for a busy machine.
CLOSE_BOUND_S = LIMITS.head_timeout_s + 20
HEALTH_TIMEOUT_S = 5


def low_file_limit_program(limit: int) -> tuple[str, ...]:
    """`python -m backend` under a hard limit of open files (as a small default limit would set)."""
    code = (
        "import resource, runpy, sys; "
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({limit}, {limit})); "
        "sys.argv[0] = 'backend'; runpy.run_module('backend', run_name='__main__', alter_sys=True)"
    )
    return (sys.executable, "-c", code)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[BackendProcess]:
    process = BackendProcess(tmp_path / "data")
    process.wait_ready()
    yield process
    process.kill()


def address(backend: BackendProcess) -> tuple[str, int]:
    parts = urlsplit(backend.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def exchange(backend: BackendProcess, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a new connection; the reply's status, headers and body, read until the server closes."""
    with socket.create_connection(address(backend), timeout=10) as sock:
        # The server may refuse before reading it all; its reply is still there to read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)}
    return int(status_line.split()[1]), headers, body


def health_answers(backend: BackendProcess) -> bool:
    return httpx.get(f"{backend.url}/health", timeout=HEALTH_TIMEOUT_S).status_code == 200


@pytest.mark.parametrize(
    ("request_bytes", "status", "slug"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414, "uri-too-long"),
        (b"GET /health?" + b"q" * 9_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414, "uri-too-long"),
        (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 700_000 + b"\r\n\r\n", 431, None),
        (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Many: c\r\n" * 5_000 + b"\r\n", 431, None),
        (b"GET /he\x01lth HTTP/1.1\r\n\r\n", 400, "bad-request"),
        (b"NOT HTTP AT ALL\r\n\r\n", 400, "bad-request"),
    ],
    ids=["request-line-70k", "query-9k", "one-header-700k", "5000-headers", "control-char", "garbage"],
)
def test_requests_the_server_refuses_before_the_app_get_problem_json(
    backend: BackendProcess, request_bytes: bytes, status: int, slug: str | None
) -> None:
    got, headers, body = exchange(backend, request_bytes)
    assert got == status, body[:200]
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["type"] == "urn:outpost:problem:" + (slug or "header-fields-too-large")
    assert problem["detail"]
    assert health_answers(backend)


def test_a_large_head_within_the_limit_is_served_however_it_is_split(backend: BackendProcess) -> None:
    headers = b"".join(b"X-Fill-%d: %s\r\n" % (i, b"f" * 1000) for i in range(24))  # ~24 KiB of 32
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n"
    with socket.create_connection(address(backend), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(head), 7000):
            sock.sendall(head[start : start + 7000])
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]


class Sockets:
    """Many raw connections to the server, and which of them it has closed."""

    def __init__(self, backend: BackendProcess, stack: ExitStack) -> None:
        self.backend = backend
        self.stack = stack
        self.open: list[socket.socket] = []
        self.replies: dict[int, bytes] = {}

    def connect(self, count: int, first_bytes: bytes = b"") -> None:
        for _ in range(count):
            sock = self.stack.enter_context(socket.create_connection(address(self.backend), timeout=10))
            if first_bytes:
                sock.sendall(first_bytes)
            sock.setblocking(False)
            self.open.append(sock)

    def closed_by_server(self) -> bool:
        """Read what is there on every open socket; whether the server has closed them all."""
        still_open = []
        for sock in self.open:
            try:
                while chunk := sock.recv(65536):
                    self.replies[sock.fileno()] = self.replies.get(sock.fileno(), b"") + chunk
            except BlockingIOError:
                still_open.append(sock)
            except ConnectionResetError:
                pass
        self.open = still_open
        return not self.open


def test_idle_and_half_sent_connections_are_closed_and_health_answers_meanwhile(backend: BackendProcess) -> None:
    with ExitStack() as stack:
        sockets = Sockets(backend, stack)
        sockets.connect(150)  # idle: never a byte
        sockets.connect(100, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # slowloris: a head never ended
        body_head = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        sockets.connect(50, body_head + b'Content-Length: 100\r\n\r\n{"email": ')  # a body never finished
        count = len(sockets.open)
        started = time.monotonic()
        assert health_answers(backend)
        assert time.monotonic() - started < HEALTH_TIMEOUT_S
        assert not sockets.closed_by_server()  # nothing is closed at once: clients get their few seconds
        assert wait_until(sockets.closed_by_server, timeout_s=CLOSE_BOUND_S), f"{len(sockets.open)}/{count} still open"
    timed_out = [reply for reply in sockets.replies.values() if reply.startswith(b"HTTP/1.1 408")]
    assert len(timed_out) >= 100  # each half-sent head is told why
    assert all(b"application/problem+json" in reply for reply in timed_out)
    assert health_answers(backend)


def _read_one_reply(sock: socket.socket) -> bytes:
    """One whole reply (head and Content-Length body) from a kept-alive connection."""
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(65536)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_kept_alive_connection_whose_next_request_stalls_is_closed(backend: BackendProcess) -> None:
    """The deadlines hold for the second request of a connection too, head and body."""
    with ExitStack() as stack:
        sockets = Sockets(backend, stack)
        sockets.connect(20)
        for index, sock in enumerate(sockets.open):
            sock.setblocking(True)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert _read_one_reply(sock).startswith(b"HTTP/1.1 200")
            if index % 2:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")  # a head never ended
            else:
                sock.sendall(
                    b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 100\r\n\r\n{"email": '  # a body never finished
                )
            sock.setblocking(False)
        assert health_answers(backend)
        assert not sockets.closed_by_server()  # nothing is closed at once: clients get their few seconds
        assert wait_until(sockets.closed_by_server, timeout_s=CLOSE_BOUND_S), f"{len(sockets.open)}/20 still open"
    timed_out = [reply for reply in sockets.replies.values() if reply.startswith(b"HTTP/1.1 408")]
    assert len(timed_out) == 10  # each half-sent head is told why; a stalled body's connection just ends


def test_more_connections_than_open_files_leave_health_answering(tmp_path: Path) -> None:
    pytest.importorskip("resource", reason="sets the server's open file limit (POSIX)")
    backend = BackendProcess(tmp_path / "data", program=low_file_limit_program(512))
    try:
        backend.wait_ready()
        with ExitStack() as stack:
            sockets = Sockets(backend, stack)
            for _ in range(7):
                sockets.connect(50)
                sockets.connect(50, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            started = time.monotonic()
            assert health_answers(backend)  # the stalest waiting connections make room for it
            assert time.monotonic() - started < HEALTH_TIMEOUT_S
        assert health_answers(backend)
        noise = [line for line in backend.stderr_lines if "Too many open files" in line or "Traceback" in line]
        assert noise == []
    finally:
        backend.kill()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc")
def test_sixty_parallel_large_sign_in_bodies_do_not_inflate_memory(backend: BackendProcess) -> None:
    body = b'{"email": "a@example.org", "password": "' + b"p" * (4 * 1024 * 1024) + b'"}'
    url = f"{backend.url}/api/v1/auth/login"

    def send(_: int) -> int | None:
        try:
            response = httpx.post(url, content=body, headers={"content-type": "application/json"}, timeout=30)
        except httpx.TransportError:
            return None  # the server answered 413 and closed while the body was still being sent
        return response.status_code

    assert health_answers(backend)
    before = rss_bytes(backend.process.pid)
    with ThreadPoolExecutor(60) as pool:
        statuses = list(pool.map(send, range(60)))
    assert set(statuses) <= {413, None}, statuses
    assert statuses.count(413) >= 1
    grown = rss_bytes(backend.process.pid) - before
    assert grown < 48 * 1024 * 1024, f"RSS grew by {grown / 2**20:.0f} MiB"
    assert health_answers(backend)


@pytest.mark.parametrize("program", [SOURCE_PROGRAM], ids=["source"])
def test_deeply_nested_body_over_real_http_is_400(tmp_path: Path, program: tuple[str, ...]) -> None:
    backend = BackendProcess(tmp_path / "data", program=program)
    try:
        backend.wait_ready()
        response = httpx.post(
            f"{backend.url}/api/v1/auth/login",
            content=b"[" * 2000 + b"]" * 2000,
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert "nested too deeply" in response.json()["detail"]
        assert not any("RecursionError" in line for line in backend.stderr_lines)
    finally:
        backend.kill()
