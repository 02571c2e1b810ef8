"""A small asyncio adapter for Asterisk's REST Interface: REST calls with httpx, events over one websocket.

Only what the ACD uses. Everything above it speaks in channel and bridge ids and plain dicts (ARI's JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import websockets

log = logging.getLogger(__name__)


class AriError(Exception):
    """A request ARI did not carry out: it refused it (`status` is the HTTP status; 404: the channel or bridge is
    gone), or it could not be asked (AriUnreachableError). Callers that shrug off a failed request catch this type."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status


class AriUnreachableError(AriError):
    """ARI gave no answer: the connection was refused or broke, or the request timed out (`status` 0). Unlike a
    refusal, Asterisk may still have carried the request out (a timed-out originate may ring the seat)."""

    def __init__(self, method: str, path: str, cause: httpx.HTTPError) -> None:
        super().__init__(0, f"no answer to {method} {path}: {cause!r}")


class Ari:
    """One process's ARI client: REST calls on a connection pool, and the events websocket of the apps it holds.
    Every failed call raises AriError."""

    def __init__(self, host: str, port: int, user: str, password: str, timeout: float = 5.0) -> None:
        self.base = f"http://{host}:{port}/ari"
        self.ws_base = f"ws://{host}:{port}/ari"
        self.auth = (user, password)
        self.http = httpx.AsyncClient(
            base_url=self.base, auth=self.auth, timeout=timeout, limits=httpx.Limits(max_connections=50)
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, path: str, **params: Any) -> Any:
        """One REST call; its JSON answer (None if it has none). Raises AriError, whatever went wrong."""
        query = {k: _param(v) for k, v in params.items() if v is not None}
        try:
            response = await self.http.request(method, path, params=query)
        except httpx.HTTPError as exc:
            raise AriUnreachableError(method, path, exc) from exc
        if response.status_code >= 400:
            raise AriError(response.status_code, response.text.strip()[:200])
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    @contextlib.asynccontextmanager
    async def event_socket(self, apps: list[str]) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Connect the websocket that registers `apps` and carries their events; yields the events as dicts.
        Asterisk has registered the apps once this is entered."""
        query = urlencode({"app": ",".join(apps), "api_key": f"{self.auth[0]}:{self.auth[1]}"})
        async with websockets.connect(f"{self.ws_base}/events?{query}", ping_interval=5, ping_timeout=10) as ws:

            async def decoded() -> AsyncIterator[dict[str, Any]]:
                async for message in ws:
                    yield json.loads(message)

            yield decoded()

    # -- the calls the ACD makes -----------------------------------------------------------------------------

    async def originate(self, endpoint: str, app: str, app_args: str, channel_id: str, timeout: int,
                        caller_id: str, originator: str | None = None) -> Any:  # fmt: skip
        return await self.request(
            "POST", "/channels", endpoint=endpoint, app=app, appArgs=app_args, channelId=channel_id,
            timeout=timeout, callerId=caller_id, originator=originator,
        )  # fmt: skip

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        await self.request("DELETE", f"/channels/{channel_id}", reason=reason)

    async def play(self, channel_id: str, media: str, playback_id: str | None = None) -> Any:
        return await self.request("POST", f"/channels/{channel_id}/play", media=media, playbackId=playback_id)

    async def stop_playback(self, playback_id: str) -> None:
        await self.request("DELETE", f"/playbacks/{playback_id}")

    async def start_moh(self, channel_id: str) -> None:
        await self.request("POST", f"/channels/{channel_id}/moh", mohClass="default")

    async def stop_moh(self, channel_id: str) -> None:
        await self.request("DELETE", f"/channels/{channel_id}/moh")

    async def continue_in_dialplan(self, channel_id: str, context: str, extension: str = "s") -> None:
        await self.request("POST", f"/channels/{channel_id}/continue", context=context, extension=extension,
                           priority=1)  # fmt: skip

    async def snoop(self, channel_id: str, app: str, app_args: str, snoop_id: str, spy: str = "both",
                    whisper: str = "none") -> Any:  # fmt: skip
        """A snoop channel on `channel_id`, entering `app`: it hears the channel's audio (`spy`: in, out, both,
        none) and what is played into it reaches the channel (`whisper`: out is toward the channel's phone)."""
        return await self.request("POST", f"/channels/{channel_id}/snoop", spy=spy, whisper=whisper, app=app,
                                  appArgs=app_args, snoopId=snoop_id)  # fmt: skip

    async def create_bridge(self, bridge_id: str, kind: str = "mixing") -> Any:
        return await self.request("POST", "/bridges", type=kind, bridgeId=bridge_id)

    async def add_to_bridge(self, bridge_id: str, channels: list[str]) -> None:
        await self.request("POST", f"/bridges/{bridge_id}/addChannel", channel=",".join(channels))

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self.request("DELETE", f"/bridges/{bridge_id}")

    async def channels(self) -> list[dict[str, Any]]:
        return list(await self.request("GET", "/channels"))

    async def channel(self, channel_id: str) -> dict[str, Any] | None:
        try:
            return dict(await self.request("GET", f"/channels/{channel_id}"))
        except AriError as exc:
            if exc.status == 404:
                return None
            raise

    async def endpoint_state(self, tech: str, resource: str) -> str | None:
        """`online`, `offline` or `unknown` for a seat's endpoint; None if there is no such endpoint."""
        try:
            result = await self.request("GET", f"/endpoints/{tech}/{resource}")
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        return str(result.get("state")) if result else None


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def wait_until_up(ari: Ari, timeout: float = 30.0) -> None:
    """Return once ARI answers; the last AriError if it has not within `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await ari.request("GET", "/asterisk/ping")
            return
        except AriError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)
