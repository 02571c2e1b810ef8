"""The dialler process (`app.py dialler`): its one wiring point. Builds the campaign service (database and policy),
the ARI client and the Dialler from the configuration, runs it until SIGINT or SIGTERM (which drain the calls in
flight), and closes what it opened."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from campaigns.policy import load_policy
from campaigns.service import CampaignService
from crm import db
from cti.ari import Ari
from cti.outbound.dialler import Dialler
from cti.outbound.rules import Speech
from hotline.config import Config


async def serve(config: Config, speech: Speech, policy: Path | None = None) -> None:
    """Run one dialler until this task is cancelled. `speech` says the notices' figures in the IVR's words (app.py
    passes ivr/speech.py: cti does not import ivr); `policy` is the campaign policy file, by default the configured
    one ([outbound] policy)."""
    ari = Ari(config.ari.host, config.ari.port, config.ari.user, config.secrets.ari_password)
    engine = db.make_engine(config.database_url)
    service = CampaignService(db.session_factory(engine), load_policy(policy or config.outbound.policy))
    dialler = Dialler(ari, service, speech)
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: task.cancel() if task else None)
    try:
        await dialler.run()
    finally:
        await ari.close()
        engine.dispose()


def main(config: Config, speech: Speech, policy: Path | None = None) -> int:
    """The process's entry: run the dialler in the foreground; returns the exit status."""
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(serve(config, speech, policy))
    return 0
