"""Check-digit rules. Valid values were fabricated by tests/data/sensitivity/fabricate.py,
which implements the algorithms independently of routing.sensitivity."""

import pytest

from routing.sensitivity import checksums


@pytest.mark.parametrize(
    "digits", ["4260181590830167", "371318609139099", "2430030824628195", "046454286"]
)
def test_luhn_accepts_valid_numbers(digits):
    assert checksums.luhn_valid(digits)


@pytest.mark.parametrize("digits", ["4821993518190932", "123456789", "1", "", "12a4"])
def test_luhn_rejects_wrong_check_digit_and_non_digits(digits):
    assert not checksums.luhn_valid(digits)


def test_card_needs_brand_prefix_and_length_as_well_as_luhn():
    assert checksums.card_brand("4260181590830167") == "visa"
    assert checksums.card_brand("371318609139099") == "amex"
    assert checksums.card_brand("2430030824628195") == "mastercard"
    # Passes Luhn, but no network issues cards starting with 9.
    assert checksums.luhn_valid("9000000000000001")
    assert not checksums.is_payment_card("9000000000000001")
    # Amex is 15 digits; a 16-digit number starting 37 is not an Amex card.
    assert checksums.card_brand("3713186091390990") is None


def test_published_test_numbers_are_cards_like_any_other():
    # Issue 16: no exemption for numbers printed in providers' documentation; a valid number
    # in a request is treated as real (a false alarm costs one local answer).
    assert checksums.is_payment_card("4242424242424242")
    assert checksums.iban_valid("DE89370400440532013000")


@pytest.mark.parametrize(
    "iban", ["DE32865797543231948757", "GB50JTCD86252760189555", "NO1497971147104"]
)
def test_iban_mod97_accepts_valid(iban):
    assert checksums.iban_valid(iban)
    assert checksums.iban_valid(iban.lower())


def test_iban_rejects_bad_check_digits_length_and_unknown_country():
    assert not checksums.iban_valid("DE98974650752917034236")  # check digits wrong
    assert not checksums.iban_valid("DE32865797543231948757" + "0")  # DE is 22 long
    assert not checksums.iban_valid("ZZ32865797543231948757")  # no such registry entry


def test_aba_routing_3_7_1_checksum_and_prefix():
    assert checksums.aba_valid("681276842")
    assert not checksums.aba_valid("096846560")  # checksum off
    assert not checksums.aba_valid("500000005")  # passes 3-7-1 but prefix 50 is unassigned


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("123456789", True),
        ("000456789", False),
        ("666456789", False),
        ("900456789", False),
        ("123006789", False),
        ("123450000", False),
        ("078051120", False),  # the Woolworth wallet card number, voided by the SSA
    ],
)
def test_ssn_validity_rules(digits, valid):
    assert checksums.ssn_valid(digits) is valid


def test_itin_groups():
    assert checksums.itin_valid("912701234")
    assert not checksums.itin_valid("912401234")


@pytest.mark.parametrize(
    ("compact", "valid"),
    [
        ("NG890786D", True),
        ("AB123456C", True),
        ("QQ123456C", False),  # Q is never a first letter (HMRC's documentation example)
        ("GB123456A", False),  # excluded prefix
        ("AO123456A", False),  # O is never a second letter
        ("AB123456E", False),  # suffix is A-D
    ],
)
def test_uk_national_insurance_rules(compact, valid):
    assert checksums.uk_ni_valid(compact) is valid


def test_canadian_sin_luhn_and_first_digit():
    assert checksums.canadian_sin_valid("244026852")
    assert not checksums.canadian_sin_valid("244026853")
    assert checksums.luhn_valid("046454286")
    assert not checksums.canadian_sin_valid("046454286")  # leading 0 is never assigned


def test_npi_luhn_with_80840_prefix():
    assert checksums.npi_valid("1122330792")
    assert not checksums.npi_valid("1122330793")
    assert not checksums.npi_valid("3122330792")  # NPIs start with 1 or 2


def test_nhs_number_mod11():
    assert checksums.nhs_number_valid("9434765919")
    assert not checksums.nhs_number_valid("9434765918")
