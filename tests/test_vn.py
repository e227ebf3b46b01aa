"""Vietnamese value parsing and formatting."""
import pytest
from hypothesis import given, strategies as st

from cchc_analysis import vn
from cchc_analysis.errors import ParseError


@pytest.mark.parametrize("text,style,value", [
    ("26.131", "vi", 26131), ("97,4%", "vi", 97.4), ("0,974", "vi", 0.974), ("01", "vi", 1),
    ("138,313", "en", 138313), ("84.66", "en", 84.66), ("84.66", "mixed", 84.66), ("97,4%", "mixed", 97.4),
    ("1.234,5", "vi", 1234.5), ("26.131.000", "mixed", 26131000), ("84,66 điểm", "vi", 84.66),
    ("-2,91%", "vi", -2.91), ("2006", "vi", 2006),
])
def test_parse_number(text, style, value):
    assert vn.parse_number(text, style) == pytest.approx(value)


@pytest.mark.parametrize("text", ["N/A", "-", "", "  ", None, float("nan"), "—"])
def test_missing_markers(text):
    assert vn.parse_number(text) is None


@pytest.mark.parametrize("text,style", [
    ("26.131", "mixed"), ("138,313", "mixed"),  # thousands or decimals? ambiguous
    ("84.66", "vi"), ("97,4", "en"),           # not valid in the stated style
    ("abc", "vi"), ("tăng", "vi"), ("12 và 13", "vi"),
])
def test_ambiguous_or_invalid_raise(text, style):
    with pytest.raises(ParseError):
        vn.parse_number(text, style)


def test_rank_and_rank_change():
    assert vn.parse_rank("12/63") == (12, 63)
    assert vn.parse_rank("01") == (1, None)
    assert vn.parse_rank("thứ 14/63") == (14, 63)
    assert vn.parse_rank("No. 52") == (52, None)
    assert vn.parse_rank_change("tăng 18 bậc") == 18
    assert vn.parse_rank_change("giảm 3 bậc") == -3
    assert vn.parse_rank_change("up 14 places") == 14
    with pytest.raises(ParseError):
        vn.parse_rank("64/63")


def test_format_vi():
    assert vn.format_percent(95.6) == "95,6%"
    assert vn.format_number(26131) == "26.131"
    assert vn.format_number(26131, style="en") == "26,131"


@given(st.integers(min_value=0, max_value=10**12))
def test_integer_round_trip(n):
    assert vn.parse_number(vn.format_number(n), "vi") == n
    assert vn.parse_number(vn.format_number(n, style="en"), "en") == n


@given(st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False))
def test_decimal_round_trip(d):
    x = float(d)
    assert vn.parse_number(vn.format_number(x, 2), "vi") == pytest.approx(x)
    assert vn.parse_number(vn.format_percent(x, 2), "vi") == pytest.approx(x)


@given(st.text().filter(lambda s: not any(c.isdigit() for c in s)))
def test_no_number_without_digits(s):
    try:
        assert vn.parse_number(s) is None
    except ParseError:
        pass
