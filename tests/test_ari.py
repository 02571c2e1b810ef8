"""The ARI adapter's one error type: a request Asterisk cannot be asked (nothing listens, or no answer in time) fails
as an AriError, as a refusal does, so that every `except AriError` in cti/ also covers it and a caller's flow ends in
its defined place instead of an unexpected exception."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

from cti.ari import Ari, AriError, AriUnreachableError, wait_until_up
from testbed.sandbox import free_port


def _ask(ari: Ari, method: str, path: str) -> BaseException | None:
    async def main() -> BaseException | None:
        try:
            await ari.request(method, path)
        except Exception as exc:
            return exc
        finally:
            await ari.close()
        return None

    return asyncio.run(main())


def test_a_refused_connection_is_an_ari_error() -> None:
    ari = Ari("127.0.0.1", free_port(), "hotline", "secret")
    error = _ask(ari, "DELETE", "/channels/c1")
    assert isinstance(error, AriUnreachableError)
    assert isinstance(error, AriError)
    assert error.status == 0
    assert "DELETE /channels/c1" in str(error)


def test_a_request_without_an_answer_in_time_is_an_ari_error() -> None:
    with socket.socket() as listener:
        # A listener that never accepts: the connection is made (the kernel's backlog) but no answer ever comes.
        listener.bind(("127.0.0.1", free_port()))
        listener.listen(1)
        ari = Ari("127.0.0.1", listener.getsockname()[1], "hotline", "secret", timeout=0.2)
        error = _ask(ari, "POST", "/channels")
    assert isinstance(error, AriUnreachableError)
    assert "Timeout" in str(error)


def test_the_services_way_of_shrugging_off_a_failed_request_covers_an_unreachable_asterisk() -> None:
    async def main() -> str:
        ari = Ari("127.0.0.1", free_port(), "hotline", "secret")
        try:
            with contextlib.suppress(AriError):
                await ari.hangup("c1")
            return "went on"
        finally:
            await ari.close()

    assert asyncio.run(main()) == "went on"


def test_waiting_for_an_asterisk_that_never_comes_up_ends_in_an_ari_error() -> None:
    async def main() -> None:
        ari = Ari("127.0.0.1", free_port(), "hotline", "secret")
        try:
            await wait_until_up(ari, timeout=0.3)
        finally:
            await ari.close()

    with pytest.raises(AriUnreachableError):
        asyncio.run(main())
