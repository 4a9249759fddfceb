"""The filter language's `~` on 100 k rows: ways to get a Unicode-wide case-insensitive contains out of SQLite.

SQLite's lower() and LIKE fold ASCII only, so "É" ~ "é" needs a function of our own. This measures a full
scan per candidate (median of 9 interleaved rounds), checks which answer correctly, and what compiling a filter costs.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import string
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from backend.collections.filter_sql import FilterColumn, compile_filter
from backend.db.sqlite import UNICODE_LOWER, register_sql_functions

WORDS = ["Église", "école", "Straße", "ÉTÉ", "pump", "Valve", "Depot", "north", "clinic", "naïve", "Zürich", "site"]


def candidates() -> dict[str, tuple[str, str]]:
    """Label -> (SQL over table t(name), parameter); the search is for "école" typed as "ÉCOLE"."""
    return {
        "name LIKE ? (ASCII-only)": ("name LIKE ? ESCAPE '\\'", "%ÉCOLE%"),
        "instr(lower(name), lower(?)) (ASCII-only)": ("instr(lower(name), lower(?)) > 0", "ÉCOLE"),
        f"instr({UNICODE_LOWER}(name), {UNICODE_LOWER}(?)) [chosen]": (
            f"instr({UNICODE_LOWER}(name), {UNICODE_LOWER}(?)) > 0",
            "ÉCOLE",
        ),
        "instr(casefold(name), casefold(?))": ("instr(casefold(name), casefold(?)) > 0", "ÉCOLE"),
        f"{UNICODE_LOWER}(name) LIKE ?": (f"{UNICODE_LOWER}(name) LIKE ? ESCAPE '\\'", "%école%"),
        "contains(name, ?) (one Python call)": ("contains(name, ?)", "ÉCOLE"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench contains")
    parser.add_argument("--rows", type=int, default=100_000)
    options = parser.parse_args(argv)
    random.seed(7)
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(Path(directory) / "contains.db")
        register_sql_functions(connection)
        casefold = lambda s: s.casefold() if isinstance(s, str) else s  # noqa: E731
        connection.create_function("casefold", 1, casefold, deterministic=True)
        connection.create_function(
            "contains", 2, lambda h, n: None if h is None or n is None else n.lower() in h.lower(), deterministic=True
        )
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        names = [
            " ".join(random.choices(WORDS, k=4)) + " " + "".join(random.choices(string.ascii_letters, k=8))
            for _ in range(options.rows)
        ]
        connection.executemany("INSERT INTO t (name) VALUES (?)", [(name,) for name in names])
        connection.commit()
        truth = sum("école" in name.lower() for name in names)
        print(f"{options.rows} rows, {truth} contain 'école' in any case")
        # Rounds interleave the candidates, so a neighbour's load shifts every candidate alike.
        samples: dict[str, list[float]] = {label: [] for label in candidates()}
        found: dict[str, int] = {}
        for _ in range(9):
            for label, (condition, parameter) in candidates().items():
                started = time.perf_counter()
                row = connection.execute(f"SELECT count(*) FROM t WHERE {condition}", (parameter,)).fetchone()
                found[label] = row[0]
                samples[label].append(time.perf_counter() - started)
        for label, times in samples.items():
            verdict = "correct" if found[label] == truth else f"WRONG ({found[label]})"
            print(f"  {label:56s} {statistics.median(times) * 1000:7.1f} ms  {verdict}")
        connection.close()
    table = sa.table("t", sa.column("name"), sa.column("count"))
    columns = {"name": FilterColumn(table.c.name, "text"), "count": FilterColumn(table.c.count, "integer")}
    for text in ("name ~ 'école'", "name ~ 'école' && count > 5 || !(name = 'x')"):
        rounds = 2000
        started = time.perf_counter()
        for _ in range(rounds):
            str(compile_filter(text, columns).compile(dialect=sqlite.dialect()))
        print(f"  parse + build + compile {text!r}: {(time.perf_counter() - started) / rounds * 1e6:.0f} µs")
    return 0
