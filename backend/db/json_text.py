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


def _text_function(name: str, doc: str, *, sqlite: str, postgresql: str) -> type[FunctionElement[str]]:
    """A SQL function of text, written per engine as a format of its arguments ({0})."""
    element = type(name, (FunctionElement,), {"__doc__": doc, "type": Text(), "name": name, "inherit_cache": True})
    for dialect, template in (("sqlite", sqlite), ("postgresql", postgresql)):

        def compile_it(
            element: FunctionElement[str], compiler: SQLCompiler, template: str = template, **kw: Any
        ) -> str:
            return template.format(compiler.process(element.clauses, **kw))

        compiles(element, dialect)(compile_it)
    return element


JsonQuote = _text_function(
    "json_quote_text",
    "A scalar as JSON text (a string quoted and escaped, a number as it is).",
    sqlite="json_quote({0})",
    postgresql="CAST(to_jsonb({0}) AS TEXT)",
)
JsonArrayOf = _text_function(
    "json_array_text",
    "A JSON array, as text, of the given values.",
    sqlite="json_array({0})",
    postgresql="CAST(jsonb_build_array({0}) AS TEXT)",
)
