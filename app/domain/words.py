"""Amounts in words, the Indian way (lakh, crore), as a tax invoice prints them (Rule 46(j))."""

from decimal import Decimal

from num2words import num2words

from app.domain.gst import money


def amount_in_words(amount: Decimal) -> str:
    """Indian system: 'Rupees One Lakh Twenty-Three Thousand Four Hundred Fifty-Six and Fifty Paise Only'."""
    amount = money(abs(amount))
    rupees = int(amount)
    paise = int((amount - rupees) * 100)
    words = f"Rupees {_words(rupees)}"
    if paise:
        words += f" and {_words(paise)} Paise"
    return words + " Only"


CRORE = 10**7


def _words(number: int) -> str:
    """Indian words for any whole number. num2words stops below 1,000 crore; above a crore the count
    of crores is itself put in words (Indian usage): "One Thousand Crore", "One Lakh Crore"...
    so every amount NUMERIC(18,2) holds has its words."""
    if number >= CRORE:
        crores, rest = divmod(number, CRORE)
        return f"{_words(crores)} Crore" + (f" {_words(rest)}" if rest else "")
    words: str = num2words(number, lang="en_IN")  # untyped library
    return words.replace(",", "").replace(" and ", " ").title()
