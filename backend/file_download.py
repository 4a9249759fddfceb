"""A file of the data dir sent as a download: streamed in chunks, named for saving, never a path outside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import anyio
from litestar.response import Stream

from backend.errors import NotFound

CHUNK_BYTES = 256 * 1024


def file_in(folder: Path, name: str) -> Path:
    """The file called name in folder (NotFound if it is not there, or the name would lead out of folder)."""
    path = folder / Path(name).name
    if Path(name).name != name or name.startswith(".") or not path.is_file():
        raise NotFound(f"The file {name} is not there (exports and backups are removed after a while).")
    return path


def download(path: Path, filename: str, media_type: str) -> Stream:
    """path as an attachment called filename.

    A Stream rather than Litestar's File: File adds Last-Modified, which its OpenAPI document describes
    as an RFC 3339 date-time while HTTP sends an IMF-fixdate, so clients that check the schema refuse it.
    """
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    headers = {"Content-Disposition": disposition, "Content-Length": str(path.stat().st_size)}
    return Stream(_chunks(path), media_type=media_type, headers=headers)


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as source:
        while chunk := await source.read(CHUNK_BYTES):
            yield chunk
