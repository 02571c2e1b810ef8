"""The wiring of the ACD's processes: where their connections are opened, each once, handed to the objects that use
them, and closed. A router process (`app.py acd`): one ARI client, one Redis client and one database engine, shared
by the store, the notifier's queue log and the work orders' clock. A desk (`app.py agent`, the web pages, tests):
the desk's ARI and Redis clients and, unless the process lends its own, a database engine for the queue log."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm import db
from cti.acd import policy, routing
from cti.acd.desk import Desk
from cti.acd.notifier import Notifier, queue_log_sink
from cti.acd.queueing import SayNumber
from cti.acd.router import Router
from cti.acd.services import Acd
from cti.acd.store import AcdStore, connect_redis
from cti.ari import Ari
from hotline.config import Config
from work_orders.policy import load_policy
from work_orders.service import WorkOrderService


def ari_client(config: Config) -> Ari:
    """The ARI client of a process, from the configuration."""
    return Ari(config.ari.host, config.ari.port, config.ari.user, config.secrets.ari_password)


def run_router(config: Config, home: int, say_number: SayNumber | None = None) -> int:
    """Run one ACD router, holding the app hotline-acd-<home>, until SIGINT or SIGTERM. `say_number`: how waiting
    callers hear their place in line (app.py passes the IVR's words; cti does not import ivr)."""
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(_serve_router(config, home, say_number))
    return 0


async def _serve_router(config: Config, home: int, say_number: SayNumber | None) -> None:
    engine = db.make_engine(config.database_url)
    sessions = db.session_factory(engine)
    redis = connect_redis(config.redis.effective_url())
    ari = ari_client(config)
    try:
        acd = Acd(
            AcdStore(redis), ari, Notifier(redis, queue_log_sink(sessions)), routing.load(config.acd.policy), say_number
        )
        # The work orders' contact clock rides along with the routers: they run wherever the hotline runs.
        orders = WorkOrderService(sessions, load_policy(config.work_orders.policy))
        router = Router(acd, home, config.acd.routers, orders=orders, sweep_s=config.work_orders.sweep_s)
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, lambda: task.cancel() if task else None)
        await router.run()
    finally:
        await ari.close()
        await redis.aclose()
        engine.dispose()


class AgentDesk(Desk):
    """The desk of a process that lends it no connections, only perhaps its database sessions: ARI and Redis clients
    opened from the configuration, and a database engine for the queue log unless `sessions` is given; all closed
    with the desk."""

    def __init__(self, config: Config, routing: policy.Policy, sessions: sessionmaker[Session] | None = None) -> None:
        self._engine: Engine | None = None
        if sessions is None:
            self._engine = db.make_engine(config.database_url)
            sessions = db.session_factory(self._engine)
        super().__init__(routing, ari_client(config), connect_redis(config.redis.effective_url()),
                         queue_log_sink(sessions))  # fmt: skip

    def close(self) -> None:
        super().close()
        if self._engine is not None:
            self._engine.dispose()
