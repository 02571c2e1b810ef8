"""Files that hold secrets or customers' data are the owner's only: the rendered Asterisk configuration (the ARI
and AMI passwords, the seats' secrets), the SQLite database, and the state directory that holds them with the
generated secrets and the logs. Read from the running test hotline."""

from __future__ import annotations

import stat
from pathlib import Path

from tests.conftest import Testbed


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_rendered_asterisk_configuration_is_the_owners_only(testbed: Testbed) -> None:
    etc = testbed.hotline.asterisk.host_dir / "etc"
    for name in ("ari.conf", "manager.conf", "pjsip-seats.conf", "pjsip.conf", "http.conf"):
        assert _mode(etc / name) == 0o600, name
    readable = [str(p.relative_to(etc)) for p in (etc, *etc.rglob("*")) if _mode(p) & 0o077]
    assert not readable


def test_the_database_and_the_state_directory_are_the_owners_only(testbed: Testbed) -> None:
    database = Path(testbed.config.database_url.removeprefix("sqlite:///"))
    assert testbed.config.database_url.startswith("sqlite:///") and database.exists()
    assert _mode(database) == 0o600
    assert _mode(testbed.config.paths.state_dir) == 0o700
    assert _mode(testbed.config.paths.state_dir / "secrets.toml") == 0o600
