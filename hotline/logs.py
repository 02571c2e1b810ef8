"""Logging for the whole hotline: every line carries the call's uniqueid, and phone and account numbers are masked."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator

from hotline.privacy import mask_number

_uniqueid: contextvars.ContextVar[str] = contextvars.ContextVar("uniqueid", default="-")
# Phone numbers and account numbers: runs of seven or more digits not glued to other digits or a dot
# (a uniqueid such as 1700000000.12 is not a number to hide).
_NUMBER = re.compile(r"(?<![\d.])\d{7,}(?![\d.])")


def mask_text(text: str) -> str:
    """Every run of seven or more digits in `text` masked as a number (hotline/privacy.py)."""
    return _NUMBER.sub(lambda m: mask_number(m.group(0)), text)


@contextlib.contextmanager
def call_context(uniqueid: str) -> Iterator[None]:
    """Tag every log line in this block (and this thread or task) with the call's uniqueid."""
    token = _uniqueid.set(uniqueid or "-")
    try:
        yield
    finally:
        _uniqueid.reset(token)


class _CallFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.uniqueid = _uniqueid.get()
        return True


class MaskingFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's own name)
        return mask_text(super().formatMessage(record))

    def formatException(self, ei):  # type: ignore[no-untyped-def]  # noqa: N802
        return mask_text(super().formatException(ei))


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_CallFilter())
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)-7s [%(uniqueid)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic announces each of its plugins at INFO on every start; its migrations still log at WARNING.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every ARI request at INFO; the ACD makes several per call.
    logging.getLogger("httpx").setLevel(logging.WARNING)
