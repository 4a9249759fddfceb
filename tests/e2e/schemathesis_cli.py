"""The schemathesis CLI, its workers safe from CPython 3.11's thread-unsafe ast.parse (run as a script)."""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_parse = ast.parse
_parse_lock = threading.Lock()


def _serialised_parse(*args: Any, **kwargs: Any) -> ast.AST:
    # CPython 3.11 keeps one AST recursion counter per interpreter, so two threads parsing at once fail with
    # "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905); Hypothesis parses
    # lambdas' source to describe strategies, from every schemathesis worker thread.
    with _parse_lock:
        return _parse(*args, **kwargs)


if __name__ == "__main__":
    ast.parse = _serialised_parse  # type: ignore[assignment]
    from schemathesis.cli import schemathesis

    sys.exit(schemathesis())
