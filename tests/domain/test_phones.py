"""Phone numbers as written -> the international digits wa.me wants (no '+')."""

import pytest

from app.domain.phones import international_digits


@pytest.mark.parametrize(
    ("written", "digits"),
    [
        ("+91 98450 12345", "919845012345"),
        ("98450 12345", "919845012345"),  # an Indian mobile without its country code
        ("(984) 501-2345", "919845012345"),
        ("098450 12345", "919845012345"),  # trunk prefix
        ("919845012345", "919845012345"),
        ("+91 80 4000 1234", "918040001234"),  # a landline with its code
        ("0044 20 7946 0958", "442079460958"),
        ("+1 (415) 555-0100", "14155550100"),
    ],
)
def test_numbers_a_person_writes(written, digits):
    assert international_digits(written) == digits


@pytest.mark.parametrize("written", [None, "", "4000 1234", "080 4000 123", "+0 1234 5678", "+91 98450 12345 6789"])
def test_numbers_that_cannot_be_made_international_are_none(written):
    assert international_digits(written) is None
