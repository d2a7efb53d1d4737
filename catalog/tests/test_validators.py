import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from catalog.validators import gtin_check_digit, normalize_hs_code, validate_gtin, validate_hs_code

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def with_check_digit(body: str) -> str:
    return body + str(gtin_check_digit(body))


@pytest.mark.parametrize(
    "gtin",
    [
        "4006381333931",  # EAN-13 (Stabilo pen)
        "036000291452",  # UPC-A
        "96385074",  # GTIN-8
        "10012345678902",  # GTIN-14
        "5901234123457",  # EAN-13 from the GS1 spec
    ],
)
def test_known_good_gtins(gtin):
    validate_gtin(gtin)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_any_ean13_with_its_check_digit_is_valid(body):
    validate_gtin(with_check_digit(body))


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_any_upc_a_with_its_check_digit_is_valid(body):
    validate_gtin(with_check_digit(body))


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_any_gtin14_with_its_check_digit_is_valid(body):
    validate_gtin(with_check_digit(body))


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(min_value=1, max_value=9))
def test_any_wrong_check_digit_is_refused(body, offset):
    good = with_check_digit(body)
    bad = good[:-1] + str((int(good[-1]) + offset) % 10)
    with pytest.raises(ValidationError) as info:
        validate_gtin(bad)
    assert "check digit" in info.value.messages[0]


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(min_value=0, max_value=10))
def test_a_single_digit_typo_is_caught(body, position):
    # The GS1 mod-10 scheme catches every single-digit substitution.
    good = with_check_digit(body)
    replacement = str((int(good[position]) + 3) % 10)
    typo = good[:position] + replacement + good[position + 1 :]
    with pytest.raises(ValidationError):
        validate_gtin(typo)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20).filter(lambda s: len(s) not in (8, 12, 13, 14)))
def test_wrong_lengths_are_refused_with_the_expected_lengths(value):
    with pytest.raises(ValidationError) as info:
        validate_gtin(value)
    assert "8, 12" in info.value.messages[0]


def test_letters_are_refused():
    with pytest.raises(ValidationError, match="digits only"):
        validate_gtin("40063813339X1")


@pytest.mark.parametrize(
    "value,stored", [("6109.10", "610910"), ("6109.10.0010", "6109100010"), ("61 09 10", "610910")]
)
def test_hs_codes_with_dots_are_accepted_and_stored_as_digits(value, stored):
    validate_hs_code(value)
    assert normalize_hs_code(value) == stored


@pytest.mark.parametrize("value", ["6109", "61091000001", "61O910", "abc.def"])
def test_bad_hs_codes_say_what_is_expected(value):
    with pytest.raises(ValidationError, match="6 to 10 digits"):
        validate_hs_code(value)
