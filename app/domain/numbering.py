"""Document number patterns (CGST Rule 46(b)): rendering and validation, one place for both.

A pattern is literal letters, digits, `-` and `/`, exactly one `{seq}` or `{seq:0N}` (zero-padded
to N digits) and any number of `{fy}` (the financial year as `25-26`). It is valid when its
longest rendering fits Rule 46: at most 16 characters of letters, digits, `-` and `/`. The
longest rendering is the one with a sequence of SEQ_CAPACITY_DIGITS nines (or N, if wider): a
series must be able to number at least 99,999 documents in a financial year.
"""

import re
from functools import cache

MAX_LENGTH = 16
SEQ_CAPACITY_DIGITS = 5
FY_LENGTH = len("25-26")
RULE_46 = re.compile(r"^[A-Za-z0-9/-]{1,16}$")
TOKEN = re.compile(r"\{fy\}|\{seq(?::0([1-9]))?\}|[A-Za-z0-9/-]")
LITERAL = "[A-Za-z0-9/-]"


class InvalidPattern(ValueError):
    pass


class SeriesExhausted(ValueError):
    """The number would not fit Rule 46 any more (the sequence outgrew the pattern)."""


def _tokens(pattern: str) -> list[re.Match[str]]:
    tokens, position = [], 0
    while position < len(pattern):
        match = TOKEN.match(pattern, position)
        if match is None:
            raise InvalidPattern(
                f"unexpected {pattern[position]!r} at {position}: use letters, digits, '-', '/', {{fy}} and {{seq}}"
            )
        tokens.append(match)
        position = match.end()
    return tokens


def _render(tokens: list[re.Match[str]], fy: str, seq: int) -> str:
    parts = []
    for token in tokens:
        text = token.group(0)
        if text == "{fy}":
            parts.append(fy)
        elif text.startswith("{seq"):
            parts.append(str(seq).zfill(int(token.group(1) or 1)))
        else:
            parts.append(text)
    return "".join(parts)


def render_number(pattern: str, fy: str, seq: int) -> str:
    """The document number for sequence `seq` in financial year `fy` (e.g. `INV/25-26/00001`)."""
    number = _render(_tokens(pattern), fy, seq)
    if not RULE_46.match(number):
        raise SeriesExhausted(f"{number!r} does not fit Rule 46 (at most {MAX_LENGTH} letters, digits, '-', '/')")
    return number


def validate_pattern(pattern: str) -> str:
    """The pattern, if its longest rendering is a valid Rule 46 number; else InvalidPattern."""
    tokens = _tokens(pattern)
    seqs = [t for t in tokens if t.group(0).startswith("{seq")]
    if len(seqs) != 1:
        raise InvalidPattern("a pattern needs exactly one {seq} or {seq:0N}")
    width = max(SEQ_CAPACITY_DIGITS, int(seqs[0].group(1) or 1))
    longest = _render(tokens, "25-26", 10**width - 1)
    if len(longest) > MAX_LENGTH:
        raise InvalidPattern(f"the longest number, {longest!r}, has {len(longest)} characters; at most {MAX_LENGTH}")
    return pattern


def leading_literal(pattern: str) -> str:
    """The literal text every number of the pattern starts with (before its first token)."""
    return pattern.split("{", 1)[0]


def never_collide(first: str, second: str) -> bool:
    """Whether two patterns can never render the same number: their leading literals differ
    before either ends (`BOS/...` and `INV/...`; not `A{seq}` and `A1{seq}`, which both give A11)."""
    a, b = leading_literal(first), leading_literal(second)
    return not (a.startswith(b) or b.startswith(a))


@cache
def pattern_regex() -> str:
    """A regular expression matching exactly the valid patterns, for the OpenAPI spec.

    Enumerates how the rendered length budget is spent: the sequence's width, the number of
    `{fy}` and the literal runs between the tokens (the last run takes what is left)."""
    alternatives = []
    for seq_token, width in _seq_tokens():
        budget = MAX_LENGTH - width
        for fys in range(budget // FY_LENGTH + 1):
            for seq_at in range(fys + 1):
                tokens = [r"\{fy\}"] * fys
                tokens.insert(seq_at, seq_token)
                alternatives.append(_spread(tokens, budget - fys * FY_LENGTH))
    return "^(" + "|".join(alternatives) + ")$"


def _seq_tokens() -> list[tuple[str, int]]:
    narrow = rf"\{{seq(:0[1-{SEQ_CAPACITY_DIGITS}])?\}}"
    wide = [(rf"\{{seq:0{n}\}}", n) for n in range(SEQ_CAPACITY_DIGITS + 1, 10)]
    return [(narrow, SEQ_CAPACITY_DIGITS), *wide]


def _spread(tokens: list[str], budget: int) -> str:
    """A regex for literal runs around `tokens` whose lengths sum to at most `budget`."""
    if not tokens:
        return f"{LITERAL}{{0,{budget}}}"
    options = [f"{LITERAL}{{{run}}}" if run else "" for run in range(budget + 1)]
    return "(" + "|".join(f"{o}{tokens[0]}{_spread(tokens[1:], budget - run)}" for run, o in enumerate(options)) + ")"
