"""Backups on a real `outpost serve`: taken while clients write, checked, restored with the counts they held."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx

from backend.system.restore import SET_ASIDE_BACKUP
from tests.backend_process import BackendProcess, run_outpost
from tests.e2e.admin_backend import UNLIMITED, admin_backend
from tests.e2e.test_audit_concurrency import ADMIN, audit_events, bearer

WRITERS = 4


def _count(database: Path) -> int:
    """Live records of the notes collection in a database file, read directly."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return int(connection.execute("SELECT count(*) FROM c_notes WHERE NOT _deleted").fetchone()[0])


def test_a_backup_under_writes_is_sound_and_restores_with_its_counts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stop = threading.Event()
    with admin_backend(data_dir, UNLIMITED) as process:
        admin = bearer(process.url, *ADMIN)
        with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
            fields = [{"name": "label", "type": "text"}]
            assert http.post("/api/v1/collections", json={"name": "notes", "fields": fields}).status_code == 201

        def writer(n: int) -> int:
            made = 0
            with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
                while not stop.is_set() or made < 20:
                    reply = http.post("/api/v1/collections/notes/records", json={"label": f"w{n} {made}"})
                    assert reply.status_code == 201, reply.text
                    made += 1
            return made

        with ThreadPoolExecutor(WRITERS) as pool:
            writes = [pool.submit(writer, n) for n in range(WRITERS)]
            taken = run_outpost("backup", "create", "--data-dir", str(data_dir), timeout=120)
            stop.set()
            written = sum(future.result() for future in writes)
        assert taken.returncode == 0, taken.stderr
        backup = Path(taken.stdout.strip())
        assert backup.parent == data_dir / "backups"
        assert oct(backup.stat().st_mode & 0o777) == "0o600"
        in_backup = _count(backup)
        assert 0 < in_backup < written  # taken while the writers went on
        with closing(sqlite3.connect(backup)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        listed = run_outpost("backup", "list", "--data-dir", str(data_dir))
        assert backup.name in listed.stdout
        # The CLI, with the backend serving: the backend restores, and serves again at the same address.
        restored = run_outpost("backup", "restore", "--yes", str(backup), "--data-dir", str(data_dir), timeout=120)
        assert restored.returncode == 0, restored.stderr
        assert "The backend is restoring" in restored.stdout
        with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
            meanwhile = http.get("/api/v1/collections/notes/records", params={"count": "true", "limit": 1})
        if meanwhile.status_code == 503:  # the run being replaced refuses new requests...
            assert meanwhile.headers["retry-after"] == "2"
        else:  # ...or they waited for the next run: never an answer from the database set aside
            assert meanwhile.json()["total"] == in_backup
        assert process.next_event()["event"] == "restoring"
        assert process.next_event()["event"] == "ready"
        with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
            listed = http.get("/api/v1/collections/notes/records", params={"count": "true", "limit": 1}).json()
        assert listed["total"] == in_backup
        assert process.stop(signal.SIGTERM) == 0
    previous = next((data_dir / "backups").glob("pre-restore-*.db"))
    assert _count(previous) == written  # the database as it was, kept
    assert _count(data_dir / "outpost.db") == in_backup
    # With no backend, the CLI restores by itself: the database as it was comes back.
    back = run_outpost("backup", "restore", "--yes", str(previous), "--data-dir", str(data_dir), timeout=120)
    assert back.returncode == 0, back.stderr
    assert _count(data_dir / "outpost.db") == written
    again = BackendProcess(data_dir)
    try:
        again.wait_ready()
        with httpx.Client(base_url=again.url, headers=bearer(again.url, *ADMIN), timeout=60) as http:
            listed = http.get("/api/v1/collections/notes/records", params={"count": "true", "limit": 1}).json()
            assert listed["total"] == written
            assert http.post("/api/v1/collections/notes/records", json={"label": "after"}).status_code == 201
            restores = audit_events(again.url, dict(http.headers), "backup.restore")
        # The chain of the database restored: the request it went through before it was kept, then its own restore.
        assert [(event["action"], event["target"]) for event in restores] == [
            ("backup.restore", previous.name),
            ("backup.restore.request", backup.name),
        ]
        assert str(restores[0]["actor_label"]).startswith("cli (")
        verified = run_outpost("audit", "verify", "--data-dir", str(data_dir))
        assert verified.returncode == 0, verified.stdout + verified.stderr  # anchored again at the restored head
    finally:
        again.kill()


def test_export_and_import_from_the_command_line_without_a_backend(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    assert run_outpost("demo", "--data-dir", data_dir, "--scale", "0.05", timeout=120).returncode == 0
    exported = run_outpost("export", "sites", "--format", "jsonl", "--data-dir", data_dir, timeout=120)
    assert exported.returncode == 0, exported.stderr
    lines = exported.stdout.splitlines()
    assert len(lines) > 0
    source = tmp_path / "sites.jsonl"
    source.write_text(exported.stdout)
    again = run_outpost("import", "sites", str(source), "--data-dir", data_dir, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"0 created, {len(lines)} updated, 0 rows with problems." in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nnot a code,x\n")
    refused = run_outpost("import", "sites", str(bad), "--data-dir", data_dir, timeout=120)
    assert refused.returncode == 1
    assert "nothing was imported" in refused.stderr
    assert "Report of the problems:" in refused.stdout


def _labels(database: Path) -> set[str]:
    """The labels of the live notes in a database file, read directly."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return {row[0] for row in connection.execute("SELECT label FROM c_notes WHERE NOT _deleted")}


def _wait_for_job(http: httpx.Client, job_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = http.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        threading.Event().wait(0.05)  # polling a real server's job: nothing to be told by
    raise AssertionError(f"job {job_id} did not end")


def test_a_restore_while_clients_write_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stop = threading.Event()
    attempted: set[str] = set()
    acknowledged: set[str] = set()
    refused: list[str] = []  # replies other than 201, 503 or a dropped connection: none may come
    with admin_backend(data_dir, UNLIMITED) as process:
        admin = bearer(process.url, *ADMIN)
        http = httpx.Client(base_url=process.url, headers=admin, timeout=60)
        fields = [{"name": "label", "type": "text"}]
        assert http.post("/api/v1/collections", json={"name": "notes", "fields": fields}).status_code == 201

        def writer(n: int) -> None:
            made = 0
            with httpx.Client(base_url=process.url, headers=admin, timeout=60) as own:
                while not stop.is_set():
                    label = f"w{n}-{made}"
                    made += 1
                    attempted.add(label)
                    try:
                        reply = own.post("/api/v1/collections/notes/records", json={"label": label})
                    except httpx.TransportError:  # the connection dropped as the backend stopped serving
                        continue
                    if reply.status_code == 201:
                        acknowledged.add(label)
                    elif reply.status_code != 503:
                        refused.append(f"{reply.status_code} {reply.text}")

        def acknowledged_grows_by(count: int) -> None:
            target = len(acknowledged) + count
            deadline = time.monotonic() + 60
            while len(acknowledged) < target:
                assert time.monotonic() < deadline, "the writers stopped getting replies"
                threading.Event().wait(0.01)

        with ThreadPoolExecutor(WRITERS) as pool:
            writes = [pool.submit(writer, n) for n in range(WRITERS)]
            acknowledged_grows_by(20)
            job = _wait_for_job(http, http.post("/api/v1/backups").json()["id"])
            assert job["state"] == "succeeded", job
            name = str(job["result"]["file"])  # type: ignore[index]
            acknowledged_grows_by(20)  # written after the backup: these are set aside by the restore
            reply = http.post(f"/api/v1/backups/{name}/restore")
            assert reply.status_code == 202, reply.text
            assert process.next_event()["event"] == "restoring"
            ready = process.next_event()
            assert ready["event"] == "ready", ready
            assert ready["url"] == process.url
            assert ready["pid"] == process.process.pid
            acknowledged_grows_by(20)  # written after the restore
            stop.set()
            for future in writes:
                future.result()
        http.close()
        assert refused == []
        with httpx.Client(base_url=process.url, headers=admin, timeout=60) as http:
            listed = http.get("/api/v1/collections/notes/records", params={"count": "true", "limit": 1}).json()
            backups = {item["name"]: item["label"] for item in http.get("/api/v1/backups").json()}
            restores = audit_events(process.url, admin, "backup.restore")
            backup_job = http.get(f"/api/v1/jobs/{job['id']}").json()  # running in its own copy
        assert (backup_job["state"], backup_job["message"]) == ("cancelled", SET_ASIDE_BACKUP)
        verified = run_outpost("audit", "verify", "--data-dir", str(data_dir))
        assert process.stop(signal.SIGTERM) == 0
    previous = [backup for backup, label in backups.items() if label == "pre-restore"]
    assert len(previous) == 1
    in_backup = _labels(data_dir / "backups" / name)
    before_swap = _labels(data_dir / "backups" / previous[0])
    live = _labels(data_dir / "outpost.db")
    assert listed["total"] == len(live)
    assert acknowledged <= before_swap | live  # no acknowledged write is lost: it is in one database or the other
    assert in_backup <= before_swap
    assert in_backup <= live
    after_swap = live - in_backup
    assert after_swap
    assert after_swap <= attempted
    assert not after_swap & before_swap
    assert len(before_swap - in_backup) >= 20  # the writes set aside are kept in the pre-restore copy
    assert verified.returncode == 0, verified.stdout + verified.stderr  # the chain, anchored at its restored head
    assert [event["target"] for event in restores] == [name]
    assert restores[0]["actor_label"] == ADMIN[0]
    assert restores[0]["details"]["previous"] == previous[0]  # type: ignore[index]


def _credentials(person: tuple[str, str]) -> dict[str, str]:
    return {"email": person[0], "password": person[1]}


def test_a_restore_gives_back_no_access_taken_away_since_the_backup(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    clerk = ("clerk@example.org", "filing cabinets all day 3")
    leaver = ("leaver@example.org", "moving on to pastures new 5")
    with admin_backend(data_dir, UNLIMITED) as process:
        admin = bearer(process.url, *ADMIN)
        http = httpx.Client(base_url=process.url, headers=admin, timeout=60)
        role = {"name": "clerk", "permissions": ["users:read", "roles:read"]}
        assert http.post("/api/v1/roles", json=role).status_code == 201
        users = {}
        for email, password in (clerk, leaver):
            made = http.post("/api/v1/users", json={"email": email, "password": password, "roles": ["clerk"]})
            assert made.status_code == 201, made.text
            users[email] = made.json()["id"]
        keys = [http.post("/api/v1/api-keys", json={"name": n, "scopes": ["audit:read"]}).json() for n in "ab"]
        clerk_session = httpx.post(f"{process.url}/api/v1/auth/login", json=_credentials(clerk))
        assert clerk_session.status_code == 200
        backup = _wait_for_job(http, http.post("/api/v1/backups").json()["id"])
        assert backup["state"] == "succeeded", backup
        name = str(backup["result"]["file"])  # type: ignore[index]

        # After the backup: a key revoked, a user disabled, a permission taken from a role, a session ended.
        assert http.delete(f"/api/v1/api-keys/{keys[0]['api_key']['id']}").status_code == 204
        assert http.patch(f"/api/v1/users/{users[leaver[0]]}", json={"is_active": False}).status_code == 200
        assert http.patch("/api/v1/roles/clerk", json={"permissions": ["users:read"]}).status_code == 200
        ended = httpx.post(
            f"{process.url}/api/v1/auth/logout",
            headers={"Authorization": f"Bearer {clerk_session.json()['access_token']}"},
            json={"refresh_token": clerk_session.json()["refresh_token"]},
        )
        assert ended.status_code in (200, 204), ended.text

        assert http.post(f"/api/v1/backups/{name}/restore").status_code == 202
        assert process.next_event()["event"] == "restoring"
        assert process.next_event()["event"] == "ready"

        with httpx.Client(base_url=process.url, timeout=60) as anyone:
            assert anyone.get("/api/v1/audit", headers={"X-API-Key": keys[0]["key"]}).status_code == 401
            assert anyone.get("/api/v1/audit", headers={"X-API-Key": keys[1]["key"]}).status_code == 200
            signed_in = anyone.post("/api/v1/auth/login", json=_credentials(leaver))
            assert signed_in.status_code in (401, 403), signed_in.text
            renewed = anyone.post("/api/v1/auth/refresh", json={"refresh_token": clerk_session.json()["refresh_token"]})
            assert renewed.status_code == 401, renewed.text
        assert http.get("/api/v1/roles/clerk").json()["permissions"] == ["users:read"]
        restores = audit_events(process.url, admin, "backup.restore")  # the admin's session went on
        http.close()
        assert process.stop(signal.SIGTERM) == 0
    carried = restores[0]["details"]["access_carried"]  # type: ignore[index]
    assert (carried["keys_revoked"], carried["users_disabled"], carried["roles_narrowed"]) == (1, 1, 1)
