"""FileSink: where a download's bytes go as they arrive; the destination gets the whole file or stays untouched."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QIODevice, QSaveFile


class FileSink:
    """A file being written from a download: chunk by chunk (never whole in memory), committed at the end.

    A QSaveFile writes beside the destination and renames over it on commit, so a download that breaks
    halfway never leaves a truncated file where the person asked for the whole one.
    """

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.file = QSaveFile(str(destination))
        self.written = 0
        self.error: str | None = None  # the first write that failed: the download stops there

    def open(self) -> bool:
        """Get ready to write; False (and error says why) when the destination cannot be written."""
        if not self.file.open(QIODevice.OpenModeFlag.WriteOnly):
            self.error = f"Cannot write {self.destination}: {self.file.errorString()}"
            return False
        return True

    def write(self, data: bytes) -> bool:
        """Append a chunk; False (and error says why) when the disk refuses it."""
        if not data:
            return True
        if self.file.write(data) != len(data):
            self.error = f"Cannot write {self.destination}: {self.file.errorString()}"
            return False
        self.written += len(data)
        return True

    def commit(self) -> bool:
        """Put the whole file in place; False (and error says why) when that fails."""
        if not self.file.commit():
            self.error = f"Cannot save {self.destination}: {self.file.errorString()}"
            return False
        return True

    def discard(self) -> None:
        """Give up: the destination is left as it was."""
        self.file.cancelWriting()
        self.file.commit()  # after cancelWriting, commit only removes the temporary file
