"""create_app(settings): the one place that lists routes, plugins, middleware and handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Response
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import TooManyRequestsException, ValidationException
from litestar.openapi import OpenAPIConfig
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp

from backend import __version__
from backend.api_docs import api_docs_assets, api_docs_page
from backend.auth.access import AuthorizeMiddleware
from backend.auth.identity import Identity
from backend.auth.middleware import jwt_auth, security_components
from backend.auth.routes.api_key_routes import ApiKeyController
from backend.auth.routes.audit_routes import AuditController
from backend.auth.routes.permission_routes import PermissionController
from backend.auth.routes.role_routes import RoleController
from backend.auth.routes.session_routes import SessionController, SetupController
from backend.auth.routes.user_routes import UserController
from backend.auth.tokens import derive_key
from backend.body_errors import handle_invalid_input
from backend.cache import DiskCache
from backend.collections.routes import CollectionController
from backend.datadir import load_or_create_secret
from backend.db.factory import open_database
from backend.db.migrate import head_revision
from backend.db.overload import WriterBusy, handle_writer_busy
from backend.db.paging import CursorCodec
from backend.errors import EXCEPTION_HANDLERS, ServiceUnavailable, UnsupportedMediaType
from backend.head_requests import HeadAsGetMiddleware, with_head
from backend.host_check import HostCheckMiddleware
from backend.jobs.queue import open_job_queue
from backend.jobs.routes import JobController
from backend.jobs.runner import JobRunner, open_jobs
from backend.jobs.schedule import Retention
from backend.jobs.transfer_routes import export_collection, import_collection
from backend.observability.access_log import ACCESS_LOG
from backend.observability.health_routes import health, ready
from backend.observability.readiness import ReadinessService
from backend.observability.request_id import RequestContextMiddleware
from backend.openapi_strict import StrictStructSchemaPlugin
from backend.rate_limit import handle_rate_limited, rate_limit_config
from backend.records.data_plane import DataPlane
from backend.records.demo_routes import DemoController
from backend.records.demo_run import DemoRun
from backend.records.routes import RecordController, batch_records
from backend.request_body import JSON_BODY_LIMIT, OutpostRequest, cap_body_limits
from backend.settings import Settings
from backend.shared_store import deployment_namespace, open_shared_store
from backend.system.backup_routes import BackupController
from backend.system.cache_routes import CacheController
from backend.system.info import SystemInfo, system_info
from backend.system.restore import settle_restore
from backend.system.routes import SystemController
from backend.system.saved_settings import SavedSettingsService

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class OutpostApp(Litestar):
    """Litestar with the edge layers (request id, Host check) outside its router.

    Litestar's own middleware runs per route, so it never sees a 404 or 405; these
    layers must wrap everything the server answers.
    """

    def __init__(self, *, edge_settings: Settings, **kwargs: Any) -> None:
        self.edge_settings = edge_settings  # read by _create_asgi_handler during __init__
        super().__init__(**kwargs)

    def _create_asgi_handler(self) -> ASGIApp:
        handler = HeadAsGetMiddleware(super()._create_asgi_handler())
        handler = HostCheckMiddleware(
            handler, bound_host=self.edge_settings.host, allowed_hosts=self.edge_settings.allowed_hosts
        )
        return RequestContextMiddleware(handler)


RESTORING = {"Retry-After": "2"}


async def before_handler(request: Request[Any, Any, Any]) -> Response[None] | None:
    """Answer OPTIONS with every method of the path; refuse a non-JSON body with 415 before parsing.

    Once a restore is asked for, new requests get 503: this app's database is about to be set aside, and a
    write taken now would not be in the database served a moment later.
    """
    if request.app.state.get("restoring"):
        raise ServiceUnavailable("The backend is restoring a backup; ask again in a moment.", headers=RESTORING)
    if request.method == "OPTIONS":
        # Litestar's generated OPTIONS handler lists only the methods of the first handler
        # registered on a path (its closure sees a stale route), so GET+PATCH paths said "GET".
        allow = request.app.state.allow_by_path.get(request.scope.get("path_template", ""))
        if allow:
            return Response(None, status_code=204, headers={"Allow": allow})
    # Operations without a body (sign-out, say) accept a bare POST; the rest must say they send JSON.
    if request.method in BODY_METHODS and "data" in request.route_handler.parsed_fn_signature.parameters:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != "application/json" and not media_type.endswith("+json"):
            raise UnsupportedMediaType(f"Send the body as application/json (got {media_type or 'no Content-Type'}).")


def _dependencies(state: State) -> dict[str, Provide]:
    """The services routes take by name, read from the app's state.

    Each provider takes no parameter: a provider that takes the State gets a copy of it built for every
    request, which cost a point read more than its SQL.
    """

    async def info() -> SystemInfo:
        return await system_info(state.settings, state.db, state.schema_head, state.started_at)

    return {
        "readiness": Provide(lambda: state.readiness, sync_to_thread=False),
        "info": Provide(info),
        "saved_settings": Provide(
            lambda: SavedSettingsService(state.db, state.settings, state.identity.audit), sync_to_thread=False
        ),
        "identity": Provide(lambda: state.identity, sync_to_thread=False),
        "records": Provide(lambda: state.records, sync_to_thread=False),
        "batch": Provide(lambda: state.batch, sync_to_thread=False),
        "jobs": Provide(lambda: state.jobs, sync_to_thread=False),
    }


def create_app(settings: Settings) -> Litestar:
    """The HTTP application for these settings; the database must already be migrated."""
    secret = load_or_create_secret(settings.paths, settings.secret_file, settings.secret_key)
    auth = jwt_auth(derive_key(secret, "jwt").hex())
    # Server mode's shared store: the cache, the rate-limit windows and news of changes, shared by every instance.
    namespace = deployment_namespace(secret)
    shared = open_shared_store(settings, namespace)
    rate_limit = rate_limit_config(settings.rate_limit_per_minute, shared.window_counter() if shared else None)
    state = State({"settings": settings})  # the app's own: its lifespan fills it in

    @asynccontextmanager
    async def open_stores(app: Litestar) -> AsyncIterator[None]:
        db = open_database(settings)
        app.state.db = db
        app.state.queue = open_job_queue(settings, namespace)
        app.state.cache = shared.cache(derive_key(secret, "cache")) if shared else DiskCache(settings.paths.cache)
        app.state.identity = Identity.open(db, secret, settings.paths, setup_over_http=settings.mode == "embedded")
        await app.state.identity.directory.load_revocations()
        cursors = CursorCodec(derive_key(secret, "cursor"))
        data = await DataPlane.open(db, app.state.identity.audit, cursors, app.state.cache)
        watches = []
        if shared:
            directory, catalog = app.state.identity.directory, data.catalog
            for kind, held in (("access", directory), ("collections", catalog)):
                watches.append(asyncio.create_task(shared.share_changes(kind, held)))
        app.state.data = data
        app.state.catalog, app.state.collections = data.catalog, data.collections
        app.state.records, app.state.batch = data.records, data.batch
        app.state.demo = DemoRun()
        # Scheduled backups copy the SQLite file; a server's PostgreSQL is backed up with pg_dump (not a job yet).
        backup_hours = settings.backup_interval_hours if settings.mode == "embedded" else 0
        retention = Retention(backup_hours, settings.backup_keep, settings.jobs_keep_days)
        app.state.jobs, app.state.job_runner = open_jobs(
            asyncio.get_running_loop(),
            db,
            app.state.queue,
            data,
            app.state.identity.audit,
            cursors,
            settings.paths,
            retention=retention,
            lease_s=settings.job_lease_s,
        )
        await app.state.identity.hasher.prepare()
        app.state.setup_token_file = await app.state.identity.setup.prepare()
        app.state.schema_head = head_revision()
        app.state.started_at = datetime.now(UTC)
        # One for the app's life: probes that arrive together share one check (see ReadinessService.check).
        app.state.readiness = ReadinessService(db, app.state.schema_head, app.state.queue, app.state.cache)
        runner: JobRunner = app.state.job_runner
        await settle_restore(settings.paths, app.state.identity.audit, app.state.jobs, app.state.queue)
        await runner.recover_at_start(sole_worker=settings.mode == "embedded")
        # With a shared queue (Redis), `outpost worker` processes run the jobs and schedule the periodic ones;
        # otherwise this process does.
        runs_jobs = not settings.redis_url
        if runs_jobs:
            app.state.queue.start_consumer(periodic=True)
        leases = asyncio.create_task(runner.keep_leases()) if runs_jobs else None
        try:
            yield
        finally:
            if leases:
                leases.cancel()
            for watch in watches:
                watch.cancel()
            # Workers stop at their job's next checkpoint; the loop goes on serving their last hand-overs meanwhile.
            runner.stopping.set()
            await asyncio.to_thread(app.state.queue.stop_consumer)
            await app.state.demo.stop()
            ACCESS_LOG.flush()
            app.state.cache.close()
            app.state.queue.close()
            await db.close()
            if shared:
                await shared.close()

    app = OutpostApp(
        edge_settings=settings,
        route_handlers=[
            health,
            ready,
            SystemController,
            SetupController,
            SessionController,
            UserController,
            RoleController,
            PermissionController,
            ApiKeyController,
            AuditController,
            RecordController,
            batch_records,
            CacheController,
            CollectionController,
            DemoController,
            JobController,
            export_collection,
            import_collection,
            BackupController,
            api_docs_assets(),
        ],
        # Authentication first, so the rate limit counts per principal; then each route's declared permission.
        middleware=[auth.middleware, rate_limit.middleware, AuthorizeMiddleware],
        plugins=[StrictStructSchemaPlugin()],
        lifespan=[open_stores],
        state=state,
        dependencies=_dependencies(state),
        before_request=before_handler,
        exception_handlers={
            **EXCEPTION_HANDLERS,
            TooManyRequestsException: handle_rate_limited,
            ValidationException: handle_invalid_input,
            WriterBusy: handle_writer_busy,
        },
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        # JSON routes get a small limit, others their own under max_body_bytes; uploads are under max_upload_bytes.
        request_max_body_size=min(JSON_BODY_LIMIT, settings.max_body_bytes),
        request_class=OutpostRequest,
        openapi_config=OpenAPIConfig(
            title="Outpost API",
            version=__version__,
            description="The local REST API of an Outpost backend. Errors are application/problem+json.",
            path="/schema",
            render_plugins=[api_docs_page()],
            components=security_components(auth),
        ),
        # Litestar would otherwise set up the root logger; observability.logging owns it.
        logging_config=None,
    )
    cap_body_limits(app, settings.max_body_bytes, settings.max_upload_bytes)
    # Keyed by both spellings: the scope's path_template may carry the parameter type ({id:str}) or not.
    app.state.allow_by_path = {
        path: with_head(", ".join(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for path in (route.path, route.path_format)
    }
    return app
