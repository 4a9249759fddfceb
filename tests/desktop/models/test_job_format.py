"""How jobs read: states, durations, tries, sizes, and the name a job's file is offered under (no view, no backend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from desktop.models.job_format import (
    attempts_text,
    duration_seconds,
    duration_text,
    file_type_filter,
    has_file,
    human_size,
    result_text,
    short_time,
    state_text,
    suggested_file_name,
)

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
EXPORT = {
    "id": "j1",
    "kind": "export",
    "state": "succeeded",
    "params": {"collection": "sites", "format": "csv", "filter": None},
    "created_at": "2026-12-07T03:17:40.100Z",
    "finished_at": "2026-12-07T03:17:43.900Z",
    "result": {
        "file": "j1.csv",
        "download_name": "sites-20261207-031743.csv",
        "rows": 80,
        "bytes": 20732,
        "media_type": "text/csv",
    },
}


def test_states_read_as_words_and_a_cancel_under_way_says_so() -> None:
    assert state_text({"state": "running"}) == "Running"
    assert state_text({"state": "running", "cancel_requested": True}) == "Cancelling…"
    assert state_text({"state": "cancelled", "cancel_requested": True}) == "Cancelled"


def test_attempts_are_n_of_m_and_nothing_before_the_first() -> None:
    assert attempts_text({"attempts": 2, "max_attempts": 3}) == "2 of 3"
    assert attempts_text({"attempts": 0, "max_attempts": 3}) == ""


def test_durations_run_to_now_while_running_and_read_at_a_glance() -> None:
    started = (NOW - timedelta(seconds=75)).isoformat()
    assert duration_seconds({"started_at": started}, now=NOW) == 75
    assert duration_seconds({"started_at": None}, now=NOW) is None
    ahead = (NOW + timedelta(seconds=3)).isoformat()  # another machine's clock runs ahead of ours
    assert duration_seconds({"started_at": ahead}, now=NOW) == 0
    assert [duration_text(s) for s in (None, 0.02, 4.25, 42, 185, 7620)] == [
        "",
        "< 0.1 s",
        "4.2 s",
        "42 s",
        "3 min 05 s",
        "2 h 07 min",
    ]


def test_sizes_and_results_read_as_people_say_them() -> None:
    assert [human_size(n) for n in (None, 812, 20732, 15_687_680, 3 * 1024**4)] == [
        "",
        "812 B",
        "20.2 KB",
        "15.0 MB",
        "3072.0 GB",
    ]
    assert result_text(EXPORT) == "80 rows, 20.2 KB"
    assert result_text({"result": {"rows": 1}}) == "1 row"


def test_times_today_show_the_time_only() -> None:
    assert short_time(None) == ""
    today = datetime.now(UTC).replace(microsecond=0)
    assert short_time(today.isoformat(), now=today) == today.astimezone().strftime("%H:%M:%S")
    long_ago = "2020-01-02T03:04:05Z"
    assert short_time(long_ago, now=NOW) == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC).astimezone().strftime(
        "%Y-%m-%d %H:%M"
    )


def test_the_file_is_offered_under_the_backends_download_name() -> None:
    assert has_file(EXPORT)
    assert not has_file({**EXPORT, "state": "failed"})
    assert not has_file({**EXPORT, "result": None})
    report = {"file": "j9.report.csv", "media_type": "text/csv", "problems": 3}
    failed_import = {"kind": "import", "state": "failed", "params": {"collection": "sites"}, "result": report}
    assert has_file(failed_import)  # an all-or-nothing import that refused the file: its report says why
    assert suggested_file_name(failed_import) == "sites-import-problems.csv"
    assert suggested_file_name(EXPORT) == "sites-20261207-031743.csv"  # as Content-Disposition names it
    assert suggested_file_name({**EXPORT, "result": {"file": "j1.csv"}}) == "j1.csv"  # a job from before the name
    backup = {"kind": "backup", "state": "succeeded", "result": {"file": "backup-20261207T033010Z.db"}}
    assert suggested_file_name(backup) == "backup-20261207T033010Z.db"
    assert suggested_file_name({**backup, "result": {"file": "../../etc/passwd"}}) == "passwd"  # a name, no path
    assert file_type_filter(EXPORT) == "CSV files (*.csv);;All files (*)"
    assert file_type_filter(backup).startswith("SQLite databases (*.db)")
    assert file_type_filter({"result": {"file": "x.bin"}}) == "All files (*)"
