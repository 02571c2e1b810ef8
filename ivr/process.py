"""The FastAGI process's wiring: the one place where the IVR's connections are opened and its server built. The
customer data and the contacts share the database's sessions; Redis is opened twice on purpose, with different
timeouts (failed guesses must not keep a caller waiting; progress reports are sent in the background). `app.py
agi` runs the server alone for an existing Asterisk; `app.py run` (hotline/stack.py) runs it beside its own."""

from __future__ import annotations

import signal
import threading

from crm import db
from crm.contacts import ContactLog
from hotline.config import Config
from ivr.customers import CrmCustomers
from ivr.fastagi import FastAgiServer
from ivr.guesses import GuessLimiter
from ivr.progress import IvrProgress
from ivr.routes import Ivr
from work_orders.policy import load_policy
from work_orders.service import WorkOrderService


def build_ivr(config: Config, contacts: ContactLog) -> Ivr:
    """The IVR as the hotline serves it: the crm database behind the contacts, Redis for failed guesses and for
    the calls' progress."""
    return Ivr(
        contacts,
        config.ivr.language,
        # The configured work-order policy: its correlation window and threshold decide suspected outages.
        CrmCustomers(contacts.sessions, WorkOrderService(contacts.sessions, load_policy(config.work_orders.policy))),
        GuessLimiter(config.redis.effective_url()),
        progress=IvrProgress.to_redis(config.redis.effective_url()),
    )


def build_server(config: Config, contacts: ContactLog) -> FastAgiServer:
    """The FastAGI server on the configured address, serving the IVR's routes."""
    return FastAgiServer(config.agi.host, config.agi.port, build_ivr(config, contacts).routes())


def main(config: Config) -> int:
    """Run the FastAGI server alone until SIGINT or SIGTERM (`app.py agi`)."""
    db.upgrade(config.database_url)
    engine = db.make_engine(config.database_url)
    server = build_server(config, ContactLog(db.session_factory(engine)))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    stop.wait()
    server.stop()
    engine.dispose()
    return 0
