"""`outpost demo`: the demo collections and records, made by the running backend (or the CLI), once."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.backend_process import BackendProcess, run_outpost

ADMIN = ("admin@example.org", "a long test passphrase 42")


def _demo(data_dir: Path) -> tuple[int, str, str]:
    done = run_outpost("demo", "--scale", "0.02", "--data-dir", str(data_dir), timeout=300)
    return done.returncode, done.stdout, done.stderr


def test_demo_data_through_the_running_backend_with_relations_that_resolve(tmp_path: Path) -> None:
    backend = BackendProcess(tmp_path / "data")
    try:
        backend.wait_ready()
        made = run_outpost(
            "user", "create", "--email", ADMIN[0], "--role", "admin", "--password-stdin",
            "--data-dir", str(backend.data_dir), stdin=ADMIN[1],
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        code, out, err = _demo(backend.data_dir)
        assert code == 0, err
        assert "8 sites, 40 equipment, 160 inspections" in out
        login = httpx.post(f"{backend.url}/api/v1/auth/login", json={"email": ADMIN[0], "password": ADMIN[1]})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        counts = {
            c["name"]: c["record_count"]
            for c in httpx.get(f"{backend.url}/api/v1/collections", headers=headers).json()["items"]
        }
        assert counts == {"sites": 8, "equipment": 40, "inspections": 160}
        page = httpx.get(
            f"{backend.url}/api/v1/collections/inspections/records",
            params={"limit": 5, "expand": "site", "filter": "status = 'failed' || status = 'passed'"},
            headers=headers,
        )
        assert page.status_code == 200, page.text
        assert all(item["expand"]["site"]["id"] == item["site"] for item in page.json()["items"])
        again, _, err = _demo(backend.data_dir)
        assert again == 1
        assert "there already" in err
    finally:
        backend.stop()


def test_demo_data_without_a_backend(tmp_path: Path) -> None:
    code, out, err = _demo(tmp_path / "data")
    assert code == 0, err
    assert "160 inspections" in out
