"""Account numbers (户号): the Damm check digit catches the mistakes callers make on a keypad before any lookup."""

from __future__ import annotations

import random

import pytest

from crm import account_numbers


def test_the_published_damm_example_checks() -> None:
    # Damm's worked example: the check digit of 572 is 4.
    assert account_numbers.check_digit("572") == "4"


def test_made_numbers_are_ten_digits_that_check() -> None:
    number = account_numbers.make(31, 1)
    assert number.startswith("310000001") and len(number) == account_numbers.LENGTH
    assert account_numbers.is_valid(number)


def _samples() -> list[str]:
    rng = random.Random(7)
    return [account_numbers.make(rng.randrange(10, 100), rng.randrange(0, 10_000_000)) for _ in range(300)]


def test_every_single_digit_error_is_caught() -> None:
    for number in _samples():
        for position in range(len(number)):
            for digit in "0123456789":
                if digit != number[position]:
                    typo = number[:position] + digit + number[position + 1 :]
                    assert not account_numbers.is_valid(typo), (number, typo)


def test_every_swap_of_neighbouring_digits_is_caught() -> None:
    for number in _samples():
        for position in range(len(number) - 1):
            a, b = number[position], number[position + 1]
            if a != b:
                swapped = number[:position] + b + a + number[position + 2 :]
                assert not account_numbers.is_valid(swapped), (number, swapped)


@pytest.mark.parametrize("text", ["", "310000001", "31000000100", "31000000l0", "３１００００００１０", " 3100000010"])
def test_wrong_length_or_not_digits_is_invalid(text: str) -> None:
    assert not account_numbers.is_valid(text)


@pytest.mark.parametrize(("county", "serial"), [(9, 1), (100, 1), (31, -1), (31, 10_000_000)])
def test_make_refuses_out_of_range_parts(county: int, serial: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        account_numbers.make(county, serial)
