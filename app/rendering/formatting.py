"""Numbers and dates as an Indian document prints them: ₹1,23,45,678.90 (lakh and crore grouping),
quantities with their own decimals, rates without trailing zeros, dates as 29 Nov 2026.
Decimal in, never float."""

from datetime import date
from decimal import Decimal

from babel.numbers import format_currency, format_decimal

LOCALE = "en_IN"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rupees(amount: Decimal) -> str:
    """₹1,23,45,678.90; -₹5.50 for a negative amount."""
    return format_currency(amount, "INR", locale=LOCALE)


def amount(value: Decimal) -> str:
    """1,23,45,678.90: a table cell whose column header carries the ₹ sign."""
    return format_decimal(value, format="#,##,##0.00;-#,##,##0.00", locale=LOCALE)


def unit_price(value: Decimal) -> str:
    """Two decimals, or up to four when the price has them (1,250.50; 0.1275)."""
    places = min(max(_places(value), 2), 4)
    return format_decimal(value, format="#,##,##0." + "0" * places, locale=LOCALE)


def quantity(value: Decimal) -> str:
    """The quantity with the decimals it has, trailing zeros dropped: 2, 1.5, 0.125, 1,20,000."""
    places = min(_places(value), 3)
    pattern = "#,##,##0" + ("." + "#" * places if places else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def rate(value: Decimal) -> str:
    """A tax rate: 18%, 2.5%, 0.125%."""
    return f"{format(value.normalize(), 'f')}%"


def day(value: date | None) -> str:
    if value is None:
        return "-"
    return f"{value.day:02d} {MONTHS[value.month - 1]} {value.year}"


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0
