r"""The record filter language: a tokeniser and a recursive-descent parser building a small tree.

Grammar (loosest first; `!` binds tightest, then comparison, then `&&`, then `||`):

    filter      := disjunction END
    disjunction := conjunction ("||" conjunction)*
    conjunction := unary ("&&" unary)*
    unary       := "!" unary | "(" disjunction ")" | comparison
    comparison  := FIELD ("=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "!~") LITERAL
                 | FIELD "in" "(" LITERAL ("," LITERAL)* ")"
    LITERAL     := 'text' | "text" | 12 | -3 | 4.5 | true | false | null

`!` negates the comparison or parenthesised group that follows it. Strings take the escapes
\\ \' \" \n \r \t \uXXXX. The keywords (in, true, false, null) are case-insensitive. Positions are
0-based character offsets into the filter text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from backend.errors import BadRequest, FieldError

MAX_FILTER_LENGTH = 4096
MAX_NESTING = 32  # parentheses and `!` around one comparison
MAX_TERMS = 200  # comparisons plus in-list values
INT64 = 2**63

COMPARATORS = frozenset({"=", "!=", ">", ">=", "<", "<=", "~", "!~"})
_SYMBOLS = ("&&", "||", "!=", "!~", ">=", "<=", "=", ">", "<", "~", "!", "(", ")", ",")
_WHITESPACE = re.compile(r"\s+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SIMPLE_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_KEYWORD_VALUES: dict[str, bool | None] = {"true": True, "false": False, "null": None}


class FilterError(BadRequest):
    """A filter or sort the API cannot read: what is wrong and, where known, at which character."""

    def __init__(self, message: str, *, position: int | None = None, field: str = "filter") -> None:
        detail = message if position is None else f"{message} at position {position}"
        super().__init__(
            detail,
            errors=[FieldError(field, detail)],
            extra={} if position is None else {"position": position},
        )
        self.field = field
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Token:
    """One piece of the filter text: a name, a literal, a symbol, or the end."""

    kind: str  # "name", "keyword", "string", "number", "symbol", "end"
    text: str
    position: int
    value: str | int | float | bool | None = None


@dataclass(frozen=True)
class Literal:
    """A value written in the filter."""

    value: str | int | float | bool | None
    position: int


@dataclass(frozen=True)
class Comparison:
    """`field op literal`."""

    field: str
    op: str
    value: Literal
    position: int
    op_position: int


@dataclass(frozen=True)
class Membership:
    """`field in (literal, ...)`."""

    field: str
    values: tuple[Literal, ...]
    position: int
    op_position: int


@dataclass(frozen=True)
class Not:
    """`!operand`: exactly the rows the operand does not select."""

    operand: Node


@dataclass(frozen=True)
class And:
    """Every operand holds."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one operand holds."""

    operands: tuple[Node, ...]


Node = Comparison | Membership | Not | And | Or


def tokenize(text: str) -> list[Token]:
    """The tokens of a filter, ending with an "end" token."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_FILTER_LENGTH} characters", position=MAX_FILTER_LENGTH)
    if surrogate := _SURROGATE.search(text):
        raise FilterError("the filter is not valid text", position=surrogate.start())
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if space := _WHITESPACE.match(text, position):
            position = space.end()
            continue
        character = text[position]
        if character in "'\"":
            token = _string(text, position)
        elif number := _NUMBER.match(text, position):
            token = _number(number.group(), position)
        elif name := _NAME.match(text, position):
            word = name.group()
            if word.lower() in _KEYWORD_VALUES:
                token = Token("keyword", word, position, _KEYWORD_VALUES[word.lower()])
            elif word.lower() == "in":
                token = Token("keyword", "in", position)
            else:
                token = Token("name", word, position)
        else:
            symbol = next((s for s in _SYMBOLS if text.startswith(s, position)), None)
            if symbol is None:
                raise FilterError(f"unexpected character {character!r}", position=position)
            token = Token("symbol", symbol, position)
        tokens.append(token)
        position += len(token.text)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _number(text: str, position: int) -> Token:
    if "." in text:
        value: int | float = float(text)
        if not math.isfinite(value):
            raise FilterError("the number is too large", position=position)
    else:
        value = int(text)
        if not -INT64 <= value < INT64:
            raise FilterError("the whole number is out of range (64 bits)", position=position)
    return Token("number", text, position, value)


def _string(text: str, start: int) -> Token:
    quote = text[start]
    parts: list[str] = []
    position = start + 1
    while position < len(text):
        character = text[position]
        if character == quote:
            return Token("string", text[start : position + 1], start, "".join(parts))
        if character != "\\":
            parts.append(character)
            position += 1
            continue
        escape = text[position + 1 : position + 2]
        if escape in _SIMPLE_ESCAPES:
            parts.append(_SIMPLE_ESCAPES[escape])
            position += 2
        elif escape == "u" and (digits := _HEX4.match(text, position + 2)):
            code = int(digits.group(), 16)
            if 0xD800 <= code <= 0xDFFF:
                raise FilterError("\\u escapes cannot name a surrogate", position=position)
            parts.append(chr(code))
            position += 6
        else:
            shown = "\\" + escape if escape else "\\ at the end"
            raise FilterError(f"unknown escape {shown} (write \\\\ for a backslash)", position=position)
    raise FilterError(f"the string opened here has no closing {quote}", position=start)


def parse_filter(text: str) -> Node | None:
    """The tree of a filter, or None for blank text (no filter)."""
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        return None
    return _Parser(tokens).parse()


class _Parser:
    """Recursive descent over a token list, with the nesting and term limits checked as it goes."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.terms = 0

    def parse(self) -> Node:
        node = self._disjunction()
        token = self._peek()
        if token.kind != "end":
            found = _shown(token)
            raise FilterError(f"expected && or || or the end of the filter, found {found}", position=token.position)
        return node

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _at_symbol(self, symbol: str) -> bool:
        token = self._peek()
        return token.kind == "symbol" and token.text == symbol

    def _expect_symbol(self, symbol: str, context: str) -> Token:
        token = self._advance()
        if token.kind != "symbol" or token.text != symbol:
            raise FilterError(f"expected {symbol} {context}, found {_shown(token)}", position=token.position)
        return token

    def _disjunction(self) -> Node:
        operands = [self._conjunction()]
        while self._at_symbol("||"):
            self._advance()
            operands.append(self._conjunction())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _conjunction(self) -> Node:
        operands = [self._unary()]
        while self._at_symbol("&&"):
            self._advance()
            operands.append(self._unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _unary(self) -> Node:
        token = self._peek()
        if token.kind == "symbol" and token.text in ("!", "("):
            self._advance()
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise FilterError(f"the filter nests deeper than {MAX_NESTING} levels", position=token.position)
            if token.text == "!":
                node: Node = Not(self._unary())
            else:
                node = self._disjunction()
                self._expect_symbol(")", "to close the ( opened at position " + str(token.position))
            self.depth -= 1
            return node
        return self._comparison()

    def _comparison(self) -> Comparison | Membership:
        field = self._advance()
        if field.kind != "name":
            raise FilterError(f"expected a field name, found {_shown(field)}", position=field.position)
        op = self._advance()
        if op.kind == "keyword" and op.text == "in":
            self._expect_symbol("(", "after in")
            values = [self._literal()]
            while self._at_symbol(","):
                self._advance()
                values.append(self._literal())
            self._expect_symbol(")", "to close the in-list")
            return Membership(field.text, tuple(values), field.position, op.position)
        if op.kind == "symbol" and op.text in COMPARATORS:
            return Comparison(field.text, op.text, self._literal(), field.position, op.position)
        raise FilterError(
            f"expected an operator (= != > >= < <= ~ !~ in) after {field.text}, found {_shown(op)}",
            position=op.position,
        )

    def _literal(self) -> Literal:
        token = self._advance()
        if token.kind not in ("string", "number") and not (token.kind == "keyword" and token.text != "in"):
            raise FilterError(f"expected a value, found {_shown(token)}", position=token.position)
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise FilterError(f"the filter has more than {MAX_TERMS} terms", position=token.position)
        return Literal(token.value, token.position)


def _shown(token: Token) -> str:
    if token.kind == "end":
        return "the end of the filter"
    text = token.text if len(token.text) <= 20 else token.text[:17] + "..."
    return repr(text)
