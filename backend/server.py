"""`outpost serve`: own the data dir, migrate, serve HTTP and the control channel, stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime

import structlog
import uvicorn

from backend import __version__
from backend.app import create_app
from backend.control.commands import ControlContext
from backend.control.server import ControlServer
from backend.datadir import DataDirBusy, DataDirLock, clear_runtime, make_files_owner_only, write_runtime
from backend.db.migrate import MigrationError
from backend.events import emit_event
from backend.forwarded import behind_proxies
from backend.http_protocol import ACCEPT_BACKLOG, OutpostHttpProtocol, connection_limits, raise_open_file_limit
from backend.observability.logging import configure_logging
from backend.settings import Settings
from backend.startup import Prepared, prepare_data_dir
from backend.system.restore import RestoreRefused, RestoreRequest, record_failed_restore, restore_database

logger = structlog.get_logger("outpost.server")
GRACEFUL_SHUTDOWN_S = 3
KEEP_ALIVE_S = 5  # an idle kept-alive connection closes after this
# uvloop measured no gain here (/health 2.7 k vs 2.8 k req/s): the stack, not the loop, is the cost.
EVENT_LOOP = "asyncio"  # the bench runs its ceiling on the same loop
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class OutpostServer(uvicorn.Server):
    """uvicorn, with our own signal handling and a hook once the socket is live.

    uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process would die
    by the signal; a supervisor needs exit code 0 for a requested stop.
    """

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        on_started: Callable[[], Awaitable[None]],
        on_stopping: Callable[[], None],
        on_shutdown: Callable[[], Awaitable[None]],
    ) -> None:
        super().__init__(config)
        self.listen_error: OSError | None = None  # the socket could not serve (its port was taken, say)
        self.restore_request: RestoreRequest | None = None  # carried out once this run has stopped
        self.on_started = on_started
        self.on_stopping = on_stopping
        self.on_shutdown = on_shutdown

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.request_stop, sig)
        try:
            yield
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    def request_stop(self, sig: int = signal.SIGTERM) -> None:
        """Begin a graceful stop; a second SIGINT stops at once."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
            return
        if self.should_exit:
            return
        # Set first: nothing said about the stop below (a log line, the event) may keep it from happening.
        self.should_exit = True
        logger.info("stopping", signal=signal.Signals(sig).name)
        self.on_stopping()

    def restore_later(self, request: RestoreRequest) -> bool:
        """Stop serving, so that the database can be restored and served again; False if already stopping."""
        if self.should_exit:
            return False
        self.restore_request = request
        self.should_exit = True
        logger.info("stopping to restore", source=request.source.name)
        emit_event("restoring", source=request.source.name)
        return True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except OSError as exc:
            # uvicorn handles this only for sockets it binds itself; ours would end in a traceback.
            self.listen_error = exc
            await self.lifespan.shutdown()
            self.should_exit = True
            return
        if self.started:
            await self.on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.on_shutdown()
        await super().shutdown(sockets)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on TCP-protocol sockets, and without it
    # every reply's second write waits ~40 ms for the client's delayed ACK (measured: 724 -> ~2.3 k req/s).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening now, not when uvicorn starts serving: a port only bound can still be taken by another program
    # (SO_REUSEADDR) while the app starts up. Connections made before then wait in the backlog.
    sock.listen(ACCEPT_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _bind_or_fall_back(host: str, port: int, free_port_if_taken: bool) -> tuple[socket.socket, int | None]:
    """The listening socket, on port or (if allowed and port is in use) on a free one; the taken port, or None."""
    try:
        return _bind(host, port), None
    except OSError as exc:
        if not (free_port_if_taken and port and exc.errno == errno.EADDRINUSE):
            raise
    sock = _bind(host, 0)
    logger.warning(
        "port taken: listening on a free one instead", port_taken=port, port=sock.getsockname()[1], host=host
    )
    return sock, port


def _cannot_listen(host: str, port: int, exc: OSError) -> int:
    """Say, in one log line and one event, that the port could not be had; the exit code."""
    message = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    logger.error("bind failed", detail=message)
    emit_event("error", message=message)
    return 1


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def run_serve(settings: Settings, free_port_if_taken: bool = False) -> int:
    """Run the backend until asked to stop; the process exit code.

    free_port_if_taken: if the configured port is in use, listen on a free one and say so (the console's backend).
    """
    make_files_owner_only()
    paths = settings.paths.ensure()
    configure_logging(settings.log_level, drivers_level=settings.log_level_drivers)
    lock = DataDirLock(paths)
    try:
        lock.acquire()
    except DataDirBusy as exc:
        logger.error("data directory busy", detail=str(exc))
        emit_event("error", message=str(exc))
        return 1
    # Only the lock holder writes the log file, so two processes never rotate it at once.
    configure_logging(settings.log_level, paths.logs, settings.log_level_drivers)
    try:
        return _serve_locked(settings, free_port_if_taken)
    finally:
        clear_runtime(paths)
        lock.release()


def _serve_locked(settings: Settings, free_port_if_taken: bool) -> int:
    prepared = _prepare(settings)
    if prepared is None:
        return 1
    try:
        sock, port_taken = _bind_or_fall_back(prepared.settings.host, prepared.settings.port, free_port_if_taken)
    except OSError as exc:
        return _cannot_listen(prepared.settings.host, prepared.settings.port, exc)
    host, port = prepared.settings.host, sock.getsockname()[1]
    with sock:
        while True:
            # Each run gets its own descriptor of the socket and closes it when it stops: the socket itself
            # keeps listening, so clients that connect during a restore wait in the backlog, never refused.
            with sock.dup() as serving:
                server = _serve_app(prepared.settings, serving, _url(host, port), port_taken)
            if server.listen_error is not None:
                return _cannot_listen(host, port, server.listen_error)
            if not server.started:
                return 1
            if server.restore_request is None:
                logger.info("stopped")
                return 0
            if not _restore_between_runs(prepared.settings, server.restore_request):
                logger.info("stopped")
                return 0
            prepared = _prepare(settings)  # the restored database's saved settings (a new address waits for a restart)
            if prepared is None:
                return 1


def _prepare(settings: Settings) -> Prepared | None:
    """The data dir ready to serve, its saved settings applied; None (said) if the database cannot be opened."""
    try:
        prepared = prepare_data_dir(settings)
    except MigrationError as exc:
        logger.error("cannot open the database", detail=str(exc))
        emit_event("error", message=str(exc))
        return None
    if prepared.settings.log_level != settings.log_level:
        configure_logging(prepared.settings.log_level, settings.paths.logs, settings.log_level_drivers)  # a saved level
    if prepared.migration.changed:
        logger.info(
            "database migrated",
            from_revision=prepared.migration.from_revision,
            to_revision=prepared.migration.to_revision,
            backup=str(prepared.migration.backup) if prepared.migration.backup else None,
        )
    return prepared


def _restore_between_runs(settings: Settings, request: RestoreRequest) -> bool:
    """Restore with no app serving; whether to serve again (a SIGTERM or SIGINT meanwhile waits for it, then stops)."""
    stop_asked: list[int] = []
    handlers = {sig: signal.signal(sig, lambda sig, _frame: stop_asked.append(sig)) for sig in STOP_SIGNALS}
    try:
        restore_database(settings.paths, request.source, request.actor, synchronous=settings.sqlite_synchronous)
    except MigrationError as exc:  # after the swap: _prepare says so again and the backend stops
        logger.error("the restored database cannot be migrated", source=request.source.name, detail=str(exc))
    except RestoreRefused as exc:
        # Refused before the swap (a damaged copy, a full disk): the database is as it was, and is served again.
        logger.error("restore failed", source=request.source.name, detail=str(exc))
        emit_event("error", message=f"restore of {request.source.name} failed: {exc}")
        record_failed_restore(settings.paths, request, str(exc))
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return not stop_asked


def _serve_app(settings: Settings, sock: socket.socket, url: str, port_taken: int | None) -> OutpostServer:
    """Serve one app on sock until it is asked to stop (or to stop and restore); the server, to see why it stopped."""
    app = create_app(settings)
    config = uvicorn.Config(
        behind_proxies(app, settings.trusted_proxies),
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        # Only from the trusted proxies, if any, is X-Forwarded-For read (behind_proxies): a local client's
        # would otherwise pick its own address for the login throttle, the setup gate and the audit log.
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # Deadlines for idle and half-sent requests, limits on request heads, a connection cap under the
        # open file limit, problem+json refusals: see backend/http_protocol.py.
        http=OutpostHttpProtocol.with_limits(connection_limits(raise_open_file_limit())),
        timeout_keep_alive=KEEP_ALIVE_S,
        backlog=ACCEPT_BACKLOG,
        ws="none",
        loop=EVENT_LOOP,
    )
    control = ControlServer(
        settings.paths.control_socket,
        lambda: ControlContext(
            settings,
            app.state.db,
            app.state.schema_head,
            app.state.started_at,
            served_by="backend",
            identity=app.state.identity,
            data=app.state.data,
            jobs=app.state.jobs,
            restore_later=lambda request: bool(app.state.restore_later(request)),
        ),
    )

    async def on_started() -> None:
        await control.start()
        runtime = {
            "url": url,
            "pid": os.getpid(),
            "version": __version__,
            "data_dir": str(settings.data_dir),
            "started_at": datetime.now(UTC).isoformat(),
        }
        write_runtime(settings.paths, runtime)
        # The setup token's path, never the token: reading it takes the data directory owner's rights.
        setup_token_file = str(app.state.setup_token_file) if app.state.setup_token_file else None
        if setup_token_file:
            logger.info("no user yet: the setup token to create the first administrator is in", path=setup_token_file)
        logger.info("ready", url=url)
        emit_event(
            "ready",
            url=url,
            pid=os.getpid(),
            version=__version__,
            setup_token_file=setup_token_file,
            port_taken=port_taken,
        )

    async def on_shutdown() -> None:
        clear_runtime(settings.paths)
        await control.close()

    server = OutpostServer(
        config, on_started=on_started, on_stopping=lambda: emit_event("stopping"), on_shutdown=on_shutdown
    )

    def restore_later(request: RestoreRequest) -> bool:
        if not server.restore_later(request):
            return False
        app.state.restoring = True  # until this run stops, new requests are refused (see before_handler)
        return True

    app.state.restore_later = restore_later
    server.run(sockets=[sock])
    return server
