"""Log records the backend reshapes: asyncio's accept refusals under the open file limit."""

from __future__ import annotations

import logging
import sys

from backend.observability.logging import ACCEPT_OUT_OF_RESOURCES, AcceptLimitFilter


def test_a_refused_accept_is_one_plain_warning_without_a_traceback() -> None:
    try:
        raise OSError(24, "Too many open files")
    except OSError:
        record = logging.getLogger("asyncio").makeRecord(
            "asyncio", logging.ERROR, __file__, 1, ACCEPT_OUT_OF_RESOURCES + "\nsocket: <sock>", (), sys.exc_info()
        )
    assert AcceptLimitFilter().filter(record)
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert "open file limit" in record.getMessage()
    assert "Traceback" not in logging.Formatter().format(record)
    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "Task exception was never retrieved", (), None)
    assert AcceptLimitFilter().filter(other)
    assert other.levelno == logging.ERROR
