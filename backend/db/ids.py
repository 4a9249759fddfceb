"""Row ids: UUIDv7 strings, time-ordered so a new row's id sorts after older ones (RFC 9562)."""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_last_seq = 0


def new_id() -> str:
    """A UUIDv7 as text; ids made by this process never go backwards, even within one millisecond."""
    global _last_ms, _last_seq
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _last_seq = now_ms, int.from_bytes(os.urandom(2), "big") & 0x1FF
        else:
            # Same millisecond (or a clock set back): count on within the 12-bit rand_a field.
            _last_seq += 1
            if _last_seq > 0xFFF:
                _last_ms, _last_seq = _last_ms + 1, 0
        unix_ms, seq = _last_ms, _last_seq
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand_b
    digits = f"{value:032x}"  # as str(uuid.UUID(int=value)), without building the object
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
