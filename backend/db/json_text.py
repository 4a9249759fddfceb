"""JSON objects kept as text, changed in SQL: each engine's own JSON functions behind one construct."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class JsonTextSet(FunctionElement[str]):
    """An object kept as JSON text with keys set: json_text_set(object, key, value_json, key, value_json, …).

    Each value arrives as JSON text and is set as that JSON value (null stays a key set to null).
    """

    type = Text()
    name = "json_text_set"
    inherit_cache = True


def _parts(element: JsonTextSet, compiler: SQLCompiler, **kw: Any) -> tuple[str, list[tuple[str, str]]]:
    target, *rest = [compiler.process(clause, **kw) for clause in element.clauses]
    return target, list(zip(rest[::2], rest[1::2], strict=True))


@compiles(JsonTextSet, "sqlite")
def _json_text_set_sqlite(element: JsonTextSet, compiler: SQLCompiler, **kw: Any) -> str:
    target, pairs = _parts(element, compiler, **kw)
    # json_set keeps a key set to null (json_patch would drop it); json() makes each value JSON, not text.
    paths = ", ".join(f"'$.\"' || {key} || '\"', json({value})" for key, value in pairs)
    return f"json_set({target}, {paths})"


@compiles(JsonTextSet, "postgresql")
def _json_text_set_postgresql(element: JsonTextSet, compiler: SQLCompiler, **kw: Any) -> str:
    target, pairs = _parts(element, compiler, **kw)
    keys = ", ".join(f"CAST({key} AS TEXT), CAST({value} AS JSONB)" for key, value in pairs)
    return f"CAST(CAST({target} AS JSONB) || jsonb_build_object({keys}) AS TEXT)"
