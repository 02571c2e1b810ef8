"""The one configuration loader: hotline.toml, an optional local file, then HOTLINE_<SECTION>_<KEY> overrides.

Secrets never live in a TOML file under git: they are generated on first use into <state_dir>/secrets.toml.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# The [tiers] section is the tier rules' own value type (a leaf module with no imports).
from crm.tiers import TierThresholds

REPO_DIR = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO_DIR / "hotline.toml"


class ConfigError(Exception):
    """The configuration cannot be used as it stands; the message says which key and why."""


@dataclass(frozen=True)
class Paths:
    state_dir: Path
    asterisk_root: Path
    recorded_prompts: Path


@dataclass(frozen=True)
class Sip:
    host: str
    port: int
    rtp_start: int
    rtp_end: int


@dataclass(frozen=True)
class Trunk:
    host: str
    port: int


@dataclass(frozen=True)
class Seats:
    first: int
    count: int

    def names(self) -> list[str]:
        return [f"seat{n}" for n in range(self.first, self.first + self.count)]


@dataclass(frozen=True)
class Agi:
    host: str
    port: int

    def url(self, route: str) -> str:
        return f"agi://{self.host}:{self.port}/{route}"


@dataclass(frozen=True)
class Ari:
    host: str
    port: int
    user: str


@dataclass(frozen=True)
class Ami:
    host: str
    port: int
    user: str


@dataclass(frozen=True)
class Redis:
    url: str
    port: int

    @property
    def managed(self) -> bool:
        """True when the hotline starts its own redis-server rather than using a configured one."""
        return not self.url

    def effective_url(self) -> str:
        return self.url or f"redis://127.0.0.1:{self.port}/0"


@dataclass(frozen=True)
class Database:
    url: str


@dataclass(frozen=True)
class Ivr:
    language: str


@dataclass(frozen=True)
class Demo:
    customers: int


@dataclass(frozen=True)
class Acd:
    """The ACD routers: how many Stasis apps the dialplan offers callers to, and the routing policy file."""

    routers: int
    policy: Path


@dataclass(frozen=True)
class Web:
    """The agent desktop, supervisor monitor and JSON API: where they listen and how they count."""

    host: str
    port: int
    # gunicorn worker threads; each open live page (WebSocket) holds one while it is open.
    threads: int
    # Service level: the share of answered calls answered within this many seconds (e.g. 80/20).
    service_level_s: int
    # "1": the session cookie is sent over HTTPS only (set it behind a TLS proxy); "0" for plain loopback HTTP.
    secure_cookies: int


@dataclass(frozen=True)
class WorkOrders:
    """Work orders (工单): the contact deadlines per kind and tier, and the rule that raises suspected outages."""

    policy: Path
    # How often the routers look for orders past their contact deadline (and escalate them), in seconds.
    sweep_s: int


@dataclass(frozen=True)
class Outbound:
    """Outbound notice campaigns (外呼): whether `app.py run` starts the dialler, and the campaign policy."""

    # 1: `app.py run` starts and supervises the dialler (app.py dialler); 0: campaigns are made and shown, not dialled.
    dialler: int
    policy: Path


@dataclass(frozen=True)
class Secrets:
    """Generated once per state dir; seat passwords derive from seat_key so adding seats needs no new secret."""

    ari_password: str
    ami_password: str
    selftest_password: str
    seat_key: str
    # Signs the web session cookies and CSRF tokens.
    web_secret_key: str

    def seat_password(self, seat: str) -> str:
        return hmac.new(self.seat_key.encode(), seat.encode(), hashlib.sha256).hexdigest()[:20]


@dataclass(frozen=True)
class Config:
    paths: Paths
    sip: Sip
    trunk: Trunk
    seats: Seats
    agi: Agi
    ari: Ari
    ami: Ami
    redis: Redis
    database: Database
    ivr: Ivr
    acd: Acd
    # Thresholds of the customer tiers (客户分级) that `app.py crm retier` applies: the rules' own type.
    tiers: TierThresholds
    demo: Demo
    web: Web
    work_orders: WorkOrders
    outbound: Outbound
    secrets: Secrets = field(repr=False)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.paths.state_dir / 'hotline.db'}"

    @property
    def instance_id(self) -> str:
        """Names this instance's folder inside the shared Asterisk root, so that instances never share files."""
        return hashlib.sha1(str(self.paths.state_dir).encode()).hexdigest()[:12]

    def to_toml(self) -> str:
        """Every setting but the secrets, as a file `load` reads back: how child processes get this config."""
        lines = []
        for section in _SECTION_CLASSES:
            lines.append(f"[{section}]")
            for f in fields(getattr(self, section)):
                value = getattr(getattr(self, section), f.name)
                lines.append(f"{f.name} = {value if isinstance(value, int) else json.dumps(str(value))}")
        return "\n".join(lines) + "\n"

    def with_overrides(self, **sections: dict[str, Any]) -> Config:
        """A copy with some keys replaced, e.g. with_overrides(sip={"port": 5062}); used by tests and tools."""
        changed = {}
        for name, values in sections.items():
            changed[name] = replace(getattr(self, name), **values)
        return replace(self, **changed)


_SECTION_CLASSES = {
    "paths": Paths,
    "sip": Sip,
    "trunk": Trunk,
    "seats": Seats,
    "agi": Agi,
    "ari": Ari,
    "ami": Ami,
    "redis": Redis,
    "database": Database,
    "ivr": Ivr,
    "acd": Acd,
    "tiers": TierThresholds,
    "demo": Demo,
    "web": Web,
    "work_orders": WorkOrders,
    "outbound": Outbound,
}


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for section, values in extra.items():
        if section not in _SECTION_CLASSES:
            raise ConfigError(f"unknown section [{section}]")
        if not isinstance(values, dict):
            raise ConfigError(f"[{section}] must be a table")
        base.setdefault(section, {}).update(values)


def _coerce(section: str, key: str, raw: Any) -> Any:
    cls = _SECTION_CLASSES[section]
    types = {f.name: f.type for f in fields(cls)}
    if key not in types:
        raise ConfigError(f"unknown key {section}.{key}")
    kind = types[key]
    try:
        if kind == "int":
            return int(raw)
        if kind == "Path":
            path = Path(str(raw)).expanduser()
            return path if path.is_absolute() else (REPO_DIR / path)
        return str(raw)
    except ValueError as exc:
        raise ConfigError(f"{section}.{key} = {raw!r}: {exc}") from exc


def load(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the defaults, then the file named by `path` or $HOTLINE_CONFIG, then the environment overrides."""
    env = dict(os.environ) if env is None else env
    raw: dict[str, dict[str, Any]] = {}
    _merge(raw, tomllib.loads(DEFAULT_FILE.read_text()))
    extra = path or env.get("HOTLINE_CONFIG")
    if extra:
        try:
            _merge(raw, tomllib.loads(Path(extra).read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {extra}: {exc}") from exc
    for name, value in env.items():
        if not name.startswith("HOTLINE_") or name == "HOTLINE_CONFIG":
            continue
        rest = name[len("HOTLINE_") :].lower()
        # The longest section name that prefixes it: HOTLINE_WORK_ORDERS_POLICY is [work_orders] policy.
        for section in sorted(_SECTION_CLASSES, key=len, reverse=True):
            if rest.startswith(section + "_"):
                raw.setdefault(section, {})[rest[len(section) + 1 :]] = value
                break
    sections: dict[str, Any] = {}
    for section, cls in _SECTION_CLASSES.items():
        values = {k: _coerce(section, k, v) for k, v in raw.get(section, {}).items()}
        missing = [f.name for f in fields(cls) if f.name not in values]
        if missing:
            raise ConfigError(f"[{section}] lacks {', '.join(missing)}")
        sections[section] = cls(**values)
    state_dir = sections["paths"].state_dir
    return Config(**sections, secrets=load_secrets(state_dir))


def load_secrets(state_dir: Path) -> Secrets:
    """Read <state_dir>/secrets.toml, creating it (mode 600) with fresh random values on first use."""
    path = state_dir / "secrets.toml"
    wanted = [f.name for f in fields(Secrets)]
    values: dict[str, str] = {}
    if path.exists():
        values = {k: str(v) for k, v in tomllib.loads(path.read_text()).items()}
    if all(name in values for name in wanted):
        return Secrets(**{name: values[name] for name in wanted})
    for name in wanted:
        values.setdefault(name, secrets.token_urlsafe(18))
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# Generated on first run; keep out of version control.\n")
        for name in wanted:
            out.write(f'{name} = "{values[name]}"\n')
    os.replace(tmp, path)
    return Secrets(**{name: values[name] for name in wanted})
