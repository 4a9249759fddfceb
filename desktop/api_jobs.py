"""JobCalls: the ApiClient's calls about background work: jobs, exports, imports and backups."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from PySide6.QtNetwork import QNetworkReply

    from desktop.api import OnError, OnProgress, OnSuccess


class JobCalls:
    """Typed calls on background work, mixed into ApiClient, whose request, get, download and upload they use."""

    if TYPE_CHECKING:

        def request(
            self,
            method: str,
            path: str,
            on_success: OnSuccess,
            on_error: OnError | None = None,
            body: Any = None,
            headers: dict[str, str] | None = None,
        ) -> QNetworkReply | None: ...

        def get(self, path: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None: ...

        def download(
            self,
            path: str,
            destination: Path,
            on_success: OnSuccess,
            on_error: OnError | None = None,
            on_progress: OnProgress | None = None,
        ) -> QNetworkReply | None: ...

        def upload(
            self,
            path: str,
            source: Path,
            on_success: OnSuccess,
            on_error: OnError | None = None,
            on_progress: OnProgress | None = None,
        ) -> QNetworkReply | None: ...

    def jobs(
        self,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        *,
        limit: int = 50,
        state: str | None = None,
        kind: str | None = None,
        cursor: str | None = None,
    ) -> QNetworkReply | None:
        """GET /api/v1/jobs: {items, next_cursor}, newest first, of this state and kind if given."""
        query = {"limit": str(limit), "state": state, "kind": kind, "cursor": cursor}
        return self.get("/api/v1/jobs?" + urlencode({k: v for k, v in query.items() if v}), on_success, on_error)

    def job(self, job_id: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """GET one job: its state, progress, message, error and result."""
        return self.get(job_path(job_id), on_success, on_error)

    def cancel_job(self, job_id: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """Cancel a job (a running one stops after its current chunk); the job; 409 if it has ended."""
        return self.request("POST", job_path(job_id, "cancel"), on_success, on_error)

    def retry_job(self, job_id: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """Run a failed or cancelled job again; the NEW job; 409 for a job in any other state."""
        return self.request("POST", job_path(job_id, "retry"), on_success, on_error)

    def start_wait_job(
        self, seconds: float, on_success: OnSuccess, on_error: OnError | None = None
    ) -> QNetworkReply | None:
        """A diagnostic job that waits this long, reporting progress (it proves the workers run); the job."""
        body = {"kind": "wait", "params": {"seconds": seconds}}
        return self.request("POST", "/api/v1/jobs", on_success, on_error, body=body)

    def save_job_file(
        self,
        job_id: str,
        destination: Path,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        on_progress: OnProgress | None = None,
    ) -> QNetworkReply | None:
        """Download the file a job made into destination, as it arrives; on_success gets destination."""
        return self.download(job_path(job_id, "file"), destination, on_success, on_error, on_progress)

    def export_collection(
        self,
        name: str,
        file_format: str,
        filter_text: str | None,
        on_success: OnSuccess,
        on_error: OnError | None = None,
    ) -> QNetworkReply | None:
        """Start exporting a collection's records ("csv" or "jsonl", filtered if given); the job.

        A filter the backend cannot read is refused at once (400, with an error for the field "filter").
        """
        body: dict[str, Any] = {"format": file_format}
        if filter_text:
            body["filter"] = filter_text
        path = f"/api/v1/collections/{quote(name, safe='')}/export"
        return self.request("POST", path, on_success, on_error, body=body)

    def import_collection(
        self,
        name: str,
        source: Path,
        file_format: str,
        mode: str,
        mapping: dict[str, str] | None,
        on_success: OnSuccess,
        on_error: OnError | None = None,
        on_progress: OnProgress | None = None,
    ) -> QNetworkReply | None:
        """Send a file of records ("csv" or "jsonl") to import into a collection, streamed; the job.

        mode is "all_or_nothing" or "skip_invalid"; mapping (file column -> field name) replaces the default,
        which fills each field from the column of its name. A mapping naming a field the collection lacks is
        refused at once (422, an error for the field "mapping"); a file over the backend's limit with 413.
        """
        query = {"format": file_format, "mode": mode}
        if mapping is not None:
            query["mapping"] = json.dumps(mapping, ensure_ascii=False)
        path = f"/api/v1/collections/{quote(name, safe='')}/import?{urlencode(query)}"
        return self.upload(path, source, on_success, on_error, on_progress)

    def backups(self, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """GET /api/v1/backups: [{name, label, size_bytes, created_at}], newest first."""
        return self.get("/api/v1/backups", on_success, on_error)

    def create_backup(self, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """Take a backup now, as a job; the job."""
        return self.request("POST", "/api/v1/backups", on_success, on_error)

    def restore_backup(self, name: str, on_success: OnSuccess, on_error: OnError | None = None) -> QNetworkReply | None:
        """Replace the database with that backup; {restoring, detail, serving_since} as the backend stops to do it."""
        return self.request("POST", f"/api/v1/backups/{quote(name, safe='')}/restore", on_success, on_error)


def job_path(job_id: str, action: str = "") -> str:
    """The URL of a job, or of an action on it (cancel, retry, file)."""
    path = f"/api/v1/jobs/{quote(job_id, safe='')}"
    return f"{path}/{action}" if action else path
