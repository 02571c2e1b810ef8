"""The configuration loader: defaults, overrides from a file and the environment, and generated secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from hotline.config import ConfigError, load


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    cfg = load(
        env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path), "HOTLINE_SIP_PORT": "5099", "HOTLINE_AGI_HOST": "0.0.0.0"}
    )
    assert cfg.sip.port == 5099
    assert cfg.agi.host == "0.0.0.0"
    assert cfg.agi.url("main") == "agi://0.0.0.0:4573/main"
    assert cfg.database_url == f"sqlite:///{tmp_path / 'hotline.db'}"


def test_a_local_file_overrides_the_defaults(tmp_path: Path) -> None:
    local = tmp_path / "site.toml"
    local.write_text('[redis]\nurl = "redis://10.0.0.5:6379/2"\n[database]\nurl = "postgresql+psycopg://h/db"\n')
    cfg = load(local, env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path)})
    assert not cfg.redis.managed
    assert cfg.redis.effective_url() == "redis://10.0.0.5:6379/2"
    assert cfg.database_url == "postgresql+psycopg://h/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOTLINE_SIP_PORT": "five"}, "sip.port = 'five'"),
        ({"HOTLINE_SIP_COLOUR": "blue"}, "unknown key sip.colour"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path), **env})


def test_an_unknown_section_in_a_file_is_named(tmp_path: Path) -> None:
    local = tmp_path / "site.toml"
    local.write_text("[sipp]\nport = 1\n")
    with pytest.raises(ConfigError, match=r"unknown section \[sipp\]"):
        load(local, env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path)})


def test_secrets_are_generated_once_private_and_kept(tmp_path: Path) -> None:
    first = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path)}).secrets
    path = tmp_path / "secrets.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path)}).secrets
    assert first == second
    assert len({first.ari_password, first.ami_password, first.selftest_password, first.seat_key}) == 4
    other = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path / "other")}).secrets
    assert other.ari_password != first.ari_password
    assert first.seat_password("seat1001") != first.seat_password("seat1002")


def test_no_secret_is_in_the_committed_config() -> None:
    import tomllib

    from hotline.config import DEFAULT_FILE

    keys = [key for section in tomllib.loads(DEFAULT_FILE.read_text()).values() for key in section]
    assert not [key for key in keys if "password" in key or "secret" in key or "key" in key]


def test_a_section_with_an_underscore_takes_overrides(tmp_path: Path) -> None:
    cfg = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path), "HOTLINE_WORK_ORDERS_POLICY": "/etc/orders.toml"})
    assert cfg.work_orders.policy == Path("/etc/orders.toml")
