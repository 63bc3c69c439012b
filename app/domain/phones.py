"""Phone numbers as customers write them, turned into the digits wa.me and tel: links want."""

import re

INDIA = "91"
_NOT_DIGIT = re.compile(r"[^0-9]")


def international_digits(phone: str | None, default_country_code: str = INDIA) -> str | None:
    """The E.164 number without its '+' (country code + national number, digits only), or None when
    `phone` cannot be one. A number written without a country code is taken as Indian: a 10-digit
    mobile number (6-9 first) or a trunk-prefixed one (0 + 10 digits); `+` or `00` starts an
    international one. E.164 allows at most 15 digits."""
    if not phone:
        return None
    written = phone.strip()
    digits = _NOT_DIGIT.sub("", written)
    if written.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif len(digits) == 10 and digits[0] in "6789":
        number = default_country_code + digits
    elif len(digits) == 11 and digits[0] == "0":
        number = default_country_code + digits[1:]
    elif len(digits) == 12 and digits.startswith(default_country_code):
        number = digits
    else:
        return None
    if not 8 <= len(number) <= 15 or number[0] == "0":
        return None
    return number
