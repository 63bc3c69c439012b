import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.fiscal import financial_year, series_year
from app.domain.numbering import (
    InvalidPattern,
    SeriesExhausted,
    never_collide,
    pattern_regex,
    render_number,
    validate_pattern,
)


@pytest.mark.parametrize(
    ("day", "fy"), [(date(2026, 3, 31), "25-26"), (date(2026, 4, 1), "26-27"), (date(2099, 12, 1), "99-00")]
)
def test_financial_year_starts_on_1_april(day, fy):
    assert financial_year(day) == fy


@pytest.mark.parametrize(
    ("day", "key"),
    [
        (date(2026, 3, 31), "2025-26"),
        (date(2026, 4, 1), "2026-27"),
        (date(1999, 4, 1), "1999-00"),
        (date(2099, 12, 1), "2099-00"),
    ],
)
def test_series_are_keyed_by_the_full_financial_year(day, key):
    """'99-00' is both FY 1999-00 and 2099-00; the series key is not."""
    assert series_year(day) == key


@pytest.mark.parametrize(
    ("first", "second", "apart"),
    [
        ("BOS/{fy}/{seq:05}", "INV/{fy}/{seq:05}", True),
        ("B{seq}", "A{seq}", True),
        ("A{seq}", "A1{seq}", False),
        ("INV{seq:06}", "INV/{fy}/{seq:05}", False),
        ("{fy}/B{seq}", "{fy}/A{seq}", False),
        ("INV/{fy}/{seq:05}", "INV/{fy}/{seq:05}", False),
    ],
)
def test_two_patterns_never_collide_only_when_their_leading_letters_part(first, second, apart):
    assert never_collide(first, second) is apart and never_collide(second, first) is apart


@pytest.mark.parametrize(
    ("pattern", "seq", "number"),
    [
        ("INV/{fy}/{seq:05}", 1, "INV/25-26/00001"),
        ("{seq}", 42, "42"),
        ("A{fy}-{seq:03}", 1234, "A25-26-1234"),
    ],
)
def test_render(pattern, seq, number):
    assert render_number(pattern, "25-26", seq) == number


def test_a_number_outgrowing_rule_46_is_refused():
    with pytest.raises(SeriesExhausted):
        render_number("INV/{fy}/{seq:05}", "25-26", 100_000_000)


@pytest.mark.parametrize(
    "pattern",
    [
        "INVOICE/{fy}/{seq:05}",
        "{fy}",
        "INV/{seq}/{seq}",
        "INV {seq}",
        "INV_{seq}",
        "{seq:10}",
        "{seq:00}",
        "X{seq:09}ABCDEFG",
    ],
)
def test_invalid_patterns(pattern):
    with pytest.raises(InvalidPattern):
        validate_pattern(pattern)


@pytest.mark.parametrize("pattern", ["INVC/{fy}/{seq:05}", "{fy}{fy}X{seq}", "{seq:09}ABCDEFG", "ABCDEFGHIJK{seq}"])
def test_valid_patterns_up_to_sixteen_characters(pattern):
    assert validate_pattern(pattern) == pattern
    assert len(render_number(pattern, "25-26", 99_999)) <= 16


PIECES = st.sampled_from(["A", "9", "-", "/", "_", " ", "{fy}", "{seq}", "{seq:03}", "{seq:06}", "{seq:09}", "{"])


@given(st.lists(PIECES, max_size=14).map("".join))
def test_the_spec_regex_accepts_exactly_the_valid_patterns(pattern):
    try:
        valid = validate_pattern(pattern) == pattern
    except InvalidPattern:
        valid = False
    assert bool(re.match(pattern_regex(), pattern)) == valid
