"""The hotline's one entry point: python app.py <command>. `python app.py --help` lists the commands."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import asdict

from hotline import config as hotline_config
from hotline import logs


def cmd_run(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Start the whole hotline in the foreground; Ctrl-C stops it cleanly."""
    from hotline.stack import Hotline, StackError

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    hotline = Hotline(cfg)
    try:
        hotline.start()
    except StackError as exc:
        logging.error("%s", exc)
        return 1
    if hotline.demo is not None:
        print("\n".join(hotline.demo.lines()), flush=True)
    print(
        f"95598 hotline running: call sip:95598@{cfg.sip.host}:{cfg.sip.port} "
        f"or `python app.py call 95598 --dtmf 1`; Ctrl-C stops it.",
        flush=True,
    )
    try:
        while not stop.wait(1):
            if hotline.asterisk.process is None or hotline.asterisk.process.poll() is not None:
                logging.error("asterisk exited unexpectedly; stopping the hotline")
                return_code = 1
                break
        else:
            return_code = 0
    finally:
        hotline.stop()
    return return_code


def cmd_agi(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Run only the FastAGI server (for an existing Asterisk that sends calls here)."""
    from ivr import process

    return process.main(cfg)


def cmd_acd(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Run one ACD router (app.py run starts them; run more on other machines against the same Redis)."""
    from cti.acd import process
    from ivr import speech

    # Waiting callers hear their place in line in the IVR's words (cti does not import ivr: the words are passed in).
    return process.run_router(cfg, args.home, say_number=speech.number)


def cmd_dialler(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Run the outbound dialler (Stasis app hotline-outbound): calls the callees of running campaigns."""
    from pathlib import Path

    from cti.outbound import process
    from ivr import speech

    # Notices say their figures in the IVR's words (cti does not import ivr: the module is passed in).
    return process.main(cfg, speech, Path(args.policy) if args.policy else None)


def cmd_web(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Serve the agent desktop, supervisor monitor and JSON API (app.py run starts it)."""
    from crm import db
    from cti.web.server import serve

    db.upgrade(cfg.database_url)
    serve(cfg)
    return 0


def cmd_agent(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Log an agent in on a seat, make them ready, pause them, log them out, or list agents."""
    from cti.acd import policy, routing
    from cti.acd.process import AgentDesk

    desk = AgentDesk(cfg, routing.load(cfg.acd.policy))
    try:
        if args.action == "login":
            profile = policy.agent_profile(
                args.agent, tuple(filter(None, args.skills.split(","))), tuple(filter(None, args.teams.split(",")))
            )
            ok, detail = desk.login(profile, args.seat)
        elif args.action == "ready":
            ok, detail = desk.ready(args.agent)
        elif args.action == "pause":
            ok, detail = desk.pause(args.agent, args.reason)
        elif args.action == "logout":
            ok, detail = desk.logout(args.agent), ""
        else:
            print(json.dumps({a: desk.agent(a) for a in desk.agents()}, indent=2))
            return 0
    finally:
        desk.close()
    print(json.dumps({"ok": ok, "state": detail}))
    return 0 if ok else 1


def cmd_status(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Show what runs, where, and whether it answers; exit 0 only if everything is healthy."""
    from hotline.status import checks

    results = checks(cfg)
    if args.json:
        print(json.dumps([asdict(c) for c in results], indent=2))
    else:
        for c in results:
            print(f"{c.part:<9} {'ok  ' if c.healthy else 'DOWN'} {c.where:<45} {c.detail}")
    return 0 if all(c.healthy for c in results) else 1


def cmd_call(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Place a real SIP call into the running hotline and print what happened as JSON."""
    from testbed.call_events import CallEvents
    from testbed.phones import HANG_UP
    from testbed.softphone import SipStack

    script: list[tuple[str, str]] = []
    for step in args.at:
        menu, sep, keys = step.partition("=")
        if not sep or not menu or not keys:
            print(f"--at {step!r}: expected MENU=KEYS, e.g. main_menu=3 (or MENU=hangup)", file=sys.stderr)
            return 2
        script.append((menu, HANG_UP if keys == "hangup" else keys))
    scripted = bool(script or args.until)

    domain = f"{cfg.sip.host}:{cfg.sip.port}"
    if args.trunk:
        # Come in as the carrier: from the trunk's address and port, the caller's number as the SIP user.
        stack = SipStack(cfg.trunk.host, cfg.trunk.port)
        user, password = args.caller or "anonymous", ""
    else:
        stack = SipStack(cfg.sip.host)
        user, password = "selftest", cfg.secrets.selftest_password
    events = CallEvents(cfg.redis.effective_url(), stack.loop) if scripted else None
    try:
        ua = stack.run(stack.caller(user, domain, password))
        uri, caller_number = f"sip:{args.extension}@{domain}", None if args.trunk else args.caller
        if scripted:
            # Keys as the IVR reports it waits for them; --hold bounds the whole call.
            hold = args.hold if args.hold is not None else 90.0
            call = stack.call(
                ua, uri, caller_number=caller_number, script=script, until=args.until, events=events, hold=hold
            )
        else:
            hold = args.hold if args.hold is not None else 4.0
            call = stack.call(
                ua, uri, caller_number=caller_number, dtmf=args.dtmf, dtmf_after=args.dtmf_after, hold=hold
            )
        result = stack.run(call)
    finally:
        if events is not None:
            events.close()
        stack.close()
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    return 0 if result.established else 1


def cmd_prompts(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Synthesize the prompts that have no recording and are not yet synthesized."""
    from ivr import prompts

    state = cfg.paths.state_dir / "prompts"
    counts = prompts.build(state / "synthesized", cfg.paths.recorded_prompts, state / "current")
    print(json.dumps(counts))
    return 0


def cmd_seed(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Seed the demo utility (city grid, customers, bills, agents, outages) into an empty database."""
    from crm import db
    from demo import seed

    customers = args.customers if args.customers is not None else (cfg.demo.customers or seed.DEFAULT_CUSTOMERS)
    if customers <= 0:
        logging.error("--customers must be a positive number")
        return 2
    db.upgrade(cfg.database_url)
    engine = db.make_engine(cfg.database_url)
    try:
        summary = seed.seed_if_empty(
            engine,
            customers,
            thresholds=cfg.tiers,
            seats=cfg.seats.names(),
            progress=sys.stderr.isatty(),
        )
    finally:
        engine.dispose()
    print("\n".join(summary.lines()))
    return 0


def cmd_crm_retier(cfg: hotline_config.Config, args: argparse.Namespace) -> int:
    """Recompute every customer's tier from the last months' behaviour and record what changed."""
    from crm import db
    from crm.retier import retier

    db.upgrade(cfg.database_url)
    engine = db.make_engine(cfg.database_url)
    try:
        report = retier(db.session_factory(engine), cfg.tiers, progress=sys.stderr.isatty())
    finally:
        engine.dispose()
    print("\n".join(report.lines()))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="95598 power-supply service hotline")
    p.add_argument("--config", help="a TOML file over hotline.toml (or set HOTLINE_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help=cmd_run.__doc__).set_defaults(func=cmd_run)
    sub.add_parser("agi", help=cmd_agi.__doc__).set_defaults(func=cmd_agi)
    acd = sub.add_parser("acd", help=cmd_acd.__doc__)
    acd.add_argument("--home", type=int, default=1, help="this router's own Stasis app: hotline-acd-<home>")
    acd.set_defaults(func=cmd_acd)
    dialler = sub.add_parser("dialler", help=cmd_dialler.__doc__)
    dialler.add_argument("--policy", help="the campaign policy file (default: [outbound] policy)")
    dialler.set_defaults(func=cmd_dialler)
    sub.add_parser("web", help=cmd_web.__doc__).set_defaults(func=cmd_web)
    agent = sub.add_parser("agent", help=cmd_agent.__doc__)
    agent.add_argument("action", choices=["login", "ready", "pause", "logout", "list"])
    agent.add_argument("agent", nargs="?", default="", help="the agent's id")
    agent.add_argument("--seat", default="", help="login: the seat (PJSIP endpoint) the agent sits at")
    agent.add_argument(
        "--skills", default="", help="login: comma-separated skills (billing,repair,complaint,…); general is implied"
    )
    agent.add_argument(
        "--teams", default="", help="login: comma-separated teams (key_accounts is implied by key_account)"
    )
    agent.add_argument("--reason", default="break", help="pause: why")
    agent.set_defaults(func=cmd_agent)
    status = sub.add_parser("status", help=cmd_status.__doc__)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    call = sub.add_parser("call", help=cmd_call.__doc__)
    call.add_argument("extension", help="the number to dial, e.g. 95598")
    call.add_argument("--dtmf", default="", help="digits to send after answer (RFC 4733)")
    call.add_argument("--dtmf-after", type=float, default=1.5, help="seconds after answer before the digits")
    call.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="MENU=KEYS",
        help="when the IVR reports that it waits at MENU, press KEYS (or hang up: MENU=hangup); repeatable, in order",
    )
    call.add_argument(
        "--until", default="", metavar="EVENT", help="hang up once the hotline reports EVENT, e.g. queue.enter"
    )
    call.add_argument(
        "--hold",
        type=float,
        help="seconds to stay on the line after the digits (default 4); with --at or --until, a bound on the call "
        "(default 90)",
    )
    call.add_argument("--caller", help="the caller's number (P-Asserted-Identity, or the From user with --trunk)")
    call.add_argument("--trunk", action="store_true", help="call in as the carrier trunk, from its address and port")
    call.set_defaults(func=cmd_call)
    sub.add_parser("prompts", help=cmd_prompts.__doc__).set_defaults(func=cmd_prompts)
    seed = sub.add_parser("seed", help=cmd_seed.__doc__)
    seed.add_argument("--customers", type=int, help="how many customers (default: [demo] customers, or 100000)")
    seed.set_defaults(func=cmd_seed)
    crm = sub.add_parser("crm", help="the customer data").add_subparsers(dest="crm_command", required=True)
    crm.add_parser("retier", help=cmd_crm_retier.__doc__).set_defaults(func=cmd_crm_retier)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.setup(logging.DEBUG if args.verbose else logging.INFO)
    try:
        cfg = hotline_config.load(args.config)
    except hotline_config.ConfigError as exc:
        logging.error("configuration: %s", exc)
        return 2
    return int(args.func(cfg, args))


if __name__ == "__main__":
    sys.exit(main())
