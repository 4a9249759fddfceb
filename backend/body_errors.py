"""Every field error of a JSON body at once: msgspec stops at the first, a person filling a form wants them all."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import ValidationException
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from backend.errors import FieldError, handle_http_exception, plain_message, problem_response

# msgspec's "Expected `str`, got `int`", as a person would put it.
_KINDS = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "array": "a list",
    "object": "an object",
    "datetime": "an RFC 3339 time",
    "null": "null",
}
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_WHERE = re.compile(r"^\$((?:\[\d+\]|\.[^.\[]+)*)$")


def _plain(message: str) -> str:
    if match := _EXPECTED.match(message):
        wanted = " or ".join(_KINDS.get(kind.strip(), kind.strip()) for kind in match[1].split("|"))
        return f"must be {wanted}"
    return plain_message(message).replace("`", "'")


def _struct_of(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    """The Struct the route reads its JSON body into, if it reads one."""
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    kind = data.annotation if data is not None else None
    return kind if isinstance(kind, type) and issubclass(kind, msgspec.Struct) else None


def body_field_errors(struct: type[msgspec.Struct], raw: bytes, decoded: Any) -> list[FieldError]:
    """Everything wrong with a JSON body (raw, and as decoded) for struct: missing, mistyped and unknown fields."""
    if not raw.strip():
        return [FieldError("body", "a JSON body is required")]
    if not isinstance(decoded, dict):
        return [FieldError("body", "must be a JSON object")]
    errors = []
    fields = msgspec.structs.fields(struct)
    for field in fields:
        if field.encode_name not in decoded:
            if field.required:
                errors.append(FieldError(field.encode_name, "is required"))
            continue
        try:
            msgspec.convert(decoded[field.encode_name], field.type, strict=False)
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `")
            inside = _WHERE.match(where.rstrip("`"))
            errors.append(FieldError(field.encode_name + (inside[1] if inside else ""), _plain(message)))
    if struct.__struct_config__.forbid_unknown_fields:
        known = {field.encode_name for field in fields}
        errors += [FieldError(str(name), "is not a field of this request") for name in decoded if name not in known]
    return errors


def handle_invalid_input(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    """A 422 naming every wrong field of the body (and of the query and path); the rest as Litestar's exceptions."""
    items = [item for item in exc.extra if isinstance(item, dict)] if isinstance(exc.extra, list) else []
    from_body = [item for item in items if item.get("source") == "body"]
    struct = _struct_of(request)
    malformed = any("malformed" in str(item.get("message", "")).lower() for item in items)
    if not from_body or struct is None or malformed:
        return handle_http_exception(request, exc)
    state = ScopeState.from_scope(request.scope)  # where Litestar keeps the body it read
    raw = value_or_default(state.body, b"")
    decoded = value_or_default(state.json, None)
    errors = body_field_errors(struct, raw, decoded)
    if not errors:  # our pass found nothing msgspec did: say what msgspec said
        return handle_http_exception(request, exc)
    others = [
        FieldError(str(item.get("key") or item.get("source")), _plain(str(item.get("message", "is invalid"))))
        for item in items
        if item.get("source") != "body"
    ]
    return problem_response(request, status=422, detail="The request is not valid: see errors.", errors=others + errors)
