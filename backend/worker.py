"""`outpost worker`: a process that runs server mode's jobs from the queue every instance shares (RedisHuey).

Start as many as the load needs, on any machine that reaches the deployment's PostgreSQL and Redis. Each opens
its own connections and runs jobs on Huey's worker threads; their writes cross the jobs' LoopBridge to this
process's own event loop (the bridge's PostgreSQL side: no single writer to hand them to). Every worker asks
for the periodic jobs; one job per period is made whoever asks (the slot is the job's dedupe key). SIGTERM or
SIGINT: running jobs stop at their next checkpoint (paused, then taken up again by a worker) and the process
exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal

import structlog

from backend import __version__
from backend.auth.identity import Identity
from backend.auth.tokens import derive_key
from backend.datadir import DataDirBusy, DataDirLock, make_files_owner_only
from backend.db.factory import open_database
from backend.db.migrate import MigrationError
from backend.db.paging import CursorCodec
from backend.events import emit_event
from backend.jobs.queue import open_job_queue
from backend.jobs.runner import open_jobs
from backend.jobs.schedule import Retention
from backend.observability.logging import configure_logging
from backend.records.data_plane import DataPlane
from backend.settings import Settings
from backend.shared_store import deployment_namespace, open_shared_store
from backend.startup import Prepared, prepare_data_dir

logger = structlog.get_logger("outpost.worker")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
NEEDS = (
    "outpost worker runs server mode's jobs: it needs a database URL and a Redis URL "
    "(OUTPOST_DATABASE_URL and OUTPOST_REDIS_URL, or --database-url and --redis-url)"
)


def run_worker(settings: Settings, threads: int) -> int:
    """Run jobs until SIGTERM or SIGINT; the exit code (0 for a requested stop)."""
    configure_logging(settings.log_level, drivers_level=settings.log_level_drivers)
    if not (settings.database_url and settings.redis_url):
        emit_event("error", message=NEEDS)
        logger.error(NEEDS)
        return 2
    make_files_owner_only()
    paths = settings.paths.ensure()
    configure_logging(settings.log_level, paths.logs, settings.log_level_drivers)
    try:
        with DataDirLock(paths):
            prepared = prepare_data_dir(settings)  # migrates under the deployment's advisory lock
            return asyncio.run(_work(prepared, threads))
    except (DataDirBusy, MigrationError) as exc:
        emit_event("error", message=str(exc))
        logger.error("cannot start the worker", detail=str(exc))
        return 1


async def _work(prepared: Prepared, threads: int) -> int:
    settings, secret = prepared.settings, prepared.secret
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    namespace = deployment_namespace(secret)
    shared = open_shared_store(settings, namespace)
    assert shared is not None  # run_worker checked the Redis URL
    db = open_database(settings)
    queue = open_job_queue(settings, namespace, workers=threads)
    watches: list[asyncio.Task[None]] = []
    try:
        identity = Identity.open(db, secret, settings.paths, setup_over_http=False)
        cursors = CursorCodec(derive_key(secret, "cursor"))
        # The shared cache: an import's writes make every instance's cached answers about the collection stale.
        data = await DataPlane.open(db, identity.audit, cursors, shared.cache(derive_key(secret, "cache")))
        watches.append(asyncio.create_task(shared.share_changes("collections", data.catalog)))
        # Scheduled backups copy a SQLite file: none here (a pg_dump job comes with server mode's backups).
        retention = Retention(0, settings.backup_keep, settings.jobs_keep_days)
        _jobs, runner = open_jobs(
            loop,
            db,
            queue,
            data,
            identity.audit,
            cursors,
            settings.paths,
            retention=retention,
            lease_s=settings.job_lease_s,
        )
        await runner.recover_at_start(sole_worker=False)
        queue.start_consumer(periodic=True)
        leases = asyncio.create_task(runner.keep_leases())
        logger.info("ready", worker=runner.worker, threads=threads)
        emit_event("ready", worker=runner.worker, pid=os.getpid(), version=__version__, threads=threads)
        await stop.wait()
        emit_event("stopping")
        logger.info("stopping", worker=runner.worker)
        runner.stopping.set()  # running jobs stop at their next checkpoint, their writes still served meanwhile
        await asyncio.to_thread(queue.stop_consumer)
        leases.cancel()  # only now: a job still stopping keeps its lease, so no other worker takes it meanwhile
    finally:
        for watch in watches:
            watch.cancel()
        queue.close()
        await db.close()
        await shared.close()
    logger.info("stopped")
    return 0
