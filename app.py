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
    from crm import db
    from crm.contacts import ContactLog
    from ivr.fastagi import FastAgiServer
    from ivr.routes import Ivr

    db.upgrade(cfg.database_url)
    contacts = ContactLog(db.session_factory(db.make_engine(cfg.database_url)))
    server = FastAgiServer(cfg.agi.host, cfg.agi.port, Ivr(contacts, cfg.ivr.language).routes())
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    server.start()
    stop.wait()
    server.stop()
    return 0


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
    from hotline.softphone import SipStack

    domain = f"{cfg.sip.host}:{cfg.sip.port}"
    if args.trunk:
        # Come in as the carrier: from the trunk's address and port, the caller's number as the SIP user.
        stack = SipStack(cfg.trunk.host, cfg.trunk.port)
        user, password = args.caller or "anonymous", ""
    else:
        stack = SipStack(cfg.sip.host)
        user, password = "selftest", cfg.secrets.selftest_password
    try:
        ua = stack.run(stack.caller(user, domain, password))
        result = stack.run(
            stack.call(
                ua,
                f"sip:{args.extension}@{domain}",
                dtmf=args.dtmf,
                dtmf_after=args.dtmf_after,
                hold=args.hold,
                caller_number=None if args.trunk else args.caller,
            )
        )
    finally:
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="app.py", description="95598 power-supply service hotline")
    p.add_argument("--config", help="a TOML file over hotline.toml (or set HOTLINE_CONFIG)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help=cmd_run.__doc__).set_defaults(func=cmd_run)
    sub.add_parser("agi", help=cmd_agi.__doc__).set_defaults(func=cmd_agi)
    status = sub.add_parser("status", help=cmd_status.__doc__)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    call = sub.add_parser("call", help=cmd_call.__doc__)
    call.add_argument("extension", help="the number to dial, e.g. 95598")
    call.add_argument("--dtmf", default="", help="digits to send after answer (RFC 4733)")
    call.add_argument("--dtmf-after", type=float, default=1.5, help="seconds after answer before the digits")
    call.add_argument("--hold", type=float, default=4.0, help="seconds to stay on the line after the digits")
    call.add_argument("--caller", help="the caller's number (P-Asserted-Identity, or the From user with --trunk)")
    call.add_argument("--trunk", action="store_true", help="call in as the carrier trunk, from its address and port")
    call.set_defaults(func=cmd_call)
    sub.add_parser("prompts", help=cmd_prompts.__doc__).set_defaults(func=cmd_prompts)
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
