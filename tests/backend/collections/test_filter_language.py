"""The filter language's parser: the trees it builds, its errors and their positions, and that it never crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar, get
from litestar.testing import TestClient

from backend.collections.filter_language import (
    MAX_FILTER_LENGTH,
    MAX_NESTING,
    MAX_TERMS,
    And,
    Comparison,
    FilterError,
    Literal,
    Membership,
    Not,
    Or,
    parse_filter,
)
from backend.errors import EXCEPTION_HANDLERS


def shape(node: object) -> object:
    """A tree without positions, to compare against expectations."""
    if isinstance(node, Comparison):
        return (node.field, node.op, node.value.value)
    if isinstance(node, Membership):
        return (node.field, "in", tuple(item.value for item in node.values))
    if isinstance(node, Not):
        return ("!", shape(node.operand))
    if isinstance(node, And):
        return ("&&", *(shape(o) for o in node.operands))
    if isinstance(node, Or):
        return ("||", *(shape(o) for o in node.operands))
    raise AssertionError(node)


def error_of(text: str) -> FilterError:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = 1", ("a", "=", 1)),
        ("a != 'x'", ("a", "!=", "x")),
        ("a>=2.5", ("a", ">=", 2.5)),
        ("a <= -3", ("a", "<=", -3)),
        ("a < -0.5", ("a", "<", -0.5)),
        ("a > 0", ("a", ">", 0)),
        ('a ~ "x"', ("a", "~", "x")),
        ("a !~ 'x'", ("a", "!~", "x")),
        ("a = true", ("a", "=", True)),
        ("a = FALSE", ("a", "=", False)),
        ("a = Null", ("a", "=", None)),
        ("a in ('x')", ("a", "in", ("x",))),
        ("a IN ('x', 2, null, true)", ("a", "in", ("x", 2, None, True))),
        ("  a\t=\n1  ", ("a", "=", 1)),
    ],
)
def test_comparisons(text: str, expected: object) -> None:
    assert shape(parse_filter(text)) == expected


def test_blank_text_is_no_filter() -> None:
    assert parse_filter("") is None
    assert parse_filter("  \t\n") is None


def test_precedence_not_then_comparison_then_and_then_or() -> None:
    tree = parse_filter("a = 1 || b = 2 && !c = 3 || d = 4")
    assert shape(tree) == ("||", ("a", "=", 1), ("&&", ("b", "=", 2), ("!", ("c", "=", 3))), ("d", "=", 4))


def test_parentheses_override_precedence() -> None:
    tree = parse_filter("(a = 1 || b = 2) && !(c = 3 && d = 4)")
    assert shape(tree) == ("&&", ("||", ("a", "=", 1), ("b", "=", 2)), ("!", ("&&", ("c", "=", 3), ("d", "=", 4))))


def test_chains_of_one_operator_are_flat() -> None:
    tree = parse_filter(" && ".join(f"f{i} = {i}" for i in range(50)))
    assert isinstance(tree, And)
    assert len(tree.operands) == 50


def test_double_negation_and_redundant_parentheses() -> None:
    assert shape(parse_filter("!!(((a = 1)))")) == ("!", ("!", ("a", "=", 1)))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r"a = 'it\'s'", "it's"),
        (r'a = "say \"hi\""', 'say "hi"'),
        (r"a = 'back\\slash'", "back\\slash"),
        (r"a = 'tab\there'", "tab\there"),
        (r"a = 'line\nbreak\r'", "line\nbreak\r"),
        (r"a = '\u00e9t\u00C9'", "étÉ"),
        ("a = 'double \" inside single'", 'double " inside single'),
        ('a = "single \' inside double"', "single ' inside double"),
        ("a = '100% _sure_'", "100% _sure_"),
        ("a = ''", ""),
        ("a = 'Ωmega 😀'", "Ωmega 😀"),
    ],
)
def test_string_escapes(text: str, value: str) -> None:
    tree = parse_filter(text)
    assert isinstance(tree, Comparison)
    assert tree.value == Literal(value, 4)


def test_positions_are_character_offsets() -> None:
    tree = parse_filter("ab = 'é' || name ~ 'x'")
    assert isinstance(tree, Or)
    second = tree.operands[1]
    assert isinstance(second, Comparison)
    assert (second.position, second.op_position, second.value.position) == (12, 17, 19)


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ("a = ", 4, "expected a value, found the end"),
        ("a == 1", 3, "expected a value, found '='"),
        ("a 1", 2, "expected an operator"),
        ("= 1", 0, "expected a field name"),
        ("a = 1 b = 2", 6, "expected && or ||"),
        ("a = 1 &&", 8, "expected a field name, found the end"),
        ("(a = 1", 6, "expected ) to close the ( opened at position 0"),
        ("a = 1)", 5, "expected && or ||"),
        ("a = 'open", 4, "no closing '"),
        ('a = "open', 4, 'no closing "'),
        (r"a = 'C:\data'", 7, r"unknown escape \d"),
        ("a = 'x\\", 6, "unknown escape"),
        (r"a = '\u12'", 5, "unknown escape"),
        (r"a = '\ud800'", 5, "surrogate"),
        ("a = 1 & b = 2", 6, "unexpected character '&'"),
        ("a = 1 | b = 2", 6, "unexpected character '|'"),
        ("a = @", 4, "unexpected character '@'"),
        ("a = - 1", 4, "unexpected character '-'"),
        ("a = 1.", 5, "unexpected character '.'"),
        ("a = .5", 4, "unexpected character '.'"),
        ("a in 'x'", 5, "expected ( after in"),
        ("a in ()", 6, "expected a value"),
        ("a in ('x',)", 10, "expected a value"),
        ("a in ('x' 'y')", 10, "expected ) to close the in-list"),
        ("a = b", 4, "expected a value, found 'b'"),
        ("a = in", 4, "expected a value, found 'in'"),
        ("in = 1", 0, "expected a field name, found 'in'"),
        ("true = 1", 0, "expected a field name"),
        ("a = 9223372036854775808", 4, "out of range"),
        ("a = " + "9" * 400 + ".5", 4, "too large"),
        ("a\x00= 1", 1, "unexpected character"),
    ],
)
def test_syntax_errors_name_their_position(text: str, position: int, words: str) -> None:
    error = error_of(text)
    assert error.position == position
    assert words in error.message
    assert error.detail == f"{error.message} at position {position}"
    assert error.field == "filter"


def test_largest_integers_fit() -> None:
    assert shape(parse_filter("a = 9223372036854775807")) == ("a", "=", 2**63 - 1)
    assert shape(parse_filter("a = -9223372036854775808")) == ("a", "=", -(2**63))


def test_surrogates_in_the_text_are_refused() -> None:
    assert error_of("a = 'x\udcff'").position == 6


def test_length_limit() -> None:
    longest = "a = '" + "x" * (MAX_FILTER_LENGTH - 6) + "'"
    assert len(longest) == MAX_FILTER_LENGTH
    assert shape(parse_filter(longest)) == ("a", "=", "x" * (MAX_FILTER_LENGTH - 6))
    error = error_of("a = '" + "x" * MAX_FILTER_LENGTH + "'")
    assert error.position == MAX_FILTER_LENGTH
    assert "longer than 4096" in error.message


def test_nesting_limit_counts_parentheses_and_negations() -> None:
    assert parse_filter("(" * MAX_NESTING + "a = 1" + ")" * MAX_NESTING) is not None
    assert parse_filter("!" * MAX_NESTING + "a = 1") is not None
    deep = error_of("(" * (MAX_NESTING + 1) + "a = 1" + ")" * (MAX_NESTING + 1))
    assert deep.position == MAX_NESTING
    assert "nests deeper than 32" in deep.message
    assert error_of("!(" * 17 + "a = 1" + ")" * 17).position == 32


def test_far_too_deep_is_a_filter_error_not_a_recursion_error() -> None:
    assert error_of("(" * 2000).position == MAX_NESTING
    assert error_of("!" * 4000 + "a = 1").position == MAX_NESTING


def test_term_limit_counts_comparisons_and_list_values() -> None:
    within = " || ".join(f"a = {i}" for i in range(MAX_TERMS))
    assert isinstance(parse_filter(within), Or)
    over = error_of(within + " || b = 1")
    assert over.position == len(within) + 8
    assert "more than 200 terms" in over.message
    listed = "a in (" + ",".join(str(i) for i in range(MAX_TERMS + 1)) + ")"
    assert error_of(listed).position == listed.rindex(",") + 1


def test_filter_error_renders_as_problem_json_with_position() -> None:
    @get("/boom")
    async def boom() -> None:
        parse_filter("status = 'open' && count >")

    with TestClient(Litestar([boom], exception_handlers=EXCEPTION_HANDLERS)) as client:
        response = client.get("/boom")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:outpost:problem:bad-request"
    assert body["position"] == 26
    message = "expected a value, found the end of the filter at position 26"
    assert body["errors"] == [{"field": "filter", "message": message}]
    assert body["detail"] == body["errors"][0]["message"]


def test_filter_error_without_position_has_no_position_member() -> None:
    error = FilterError("sort needs a field", field="sort")
    assert error.extra == {}
    assert error.errors[0].field == "sort"


# Property tests: whatever arrives in ?filter=, the answer is a tree, None, or a FilterError.

TOKENS = st.sampled_from(
    [
        "a", "b_1", "in", "IN", "true", "false", "null", "=", "!=", ">", ">=", "<", "<=", "~", "!~", "!", "&&",
        "||", "(", ")", ",", "'x'", '"y"', "'", '"', "\\", "1", "-2", "3.5", "-", ".", "'\\u00e9'", "'\\q'", " ",
        "&", "|", "é", "\x00", "9" * 30, "=>", "==",
    ]
)  # fmt: skip


def refusal(text: str) -> FilterError | None:
    """The FilterError parsing raises, or None when the text parses; anything else escapes and fails the test."""
    try:
        parse_filter(text)
    except FilterError as error:
        return error
    return None


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_parses_or_raises_filter_error(text: str) -> None:
    error = refusal(text)
    assert error is None or (error.position is not None and 0 <= error.position <= len(text))


@settings(max_examples=600, deadline=None)
@given(st.lists(TOKENS, max_size=60).map(" ".join))
def test_token_soups_parse_or_raise_filter_error(text: str) -> None:
    error = refusal(text)
    assert error is None or (error.position is not None and 0 <= error.position <= len(text))


@settings(max_examples=100, deadline=None)
@given(st.lists(TOKENS, min_size=1, max_size=30).map("".join), st.integers(min_value=1, max_value=200))
def test_long_and_deep_soups_raise_only_filter_error(piece: str, repeat: int) -> None:
    text = (piece * repeat)[: MAX_FILTER_LENGTH + 10]
    error = refusal(text)
    assert error is None or (error.position is not None and 0 <= error.position <= len(text))
