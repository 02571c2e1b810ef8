"""How phone and account numbers are hidden, the one statement of it: the logs keep a number's first three and last
four digits (13800138000 -> 138****8000: the carrier and the line, for operations); the lists a supervisor reads
on the pages keep only the last four (13812345678 -> *******5678)."""

from __future__ import annotations


def mask_caller(number: str) -> str:
    """A number on a page: only the last four digits show (13812345678 -> *******5678; 1234 stays 1234)."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def mask_number(number: str) -> str:
    """A number in the logs: 13800138000 -> 138****8000; shorter numbers keep only their last four digits."""
    if len(number) >= 11:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    return mask_caller(number)
