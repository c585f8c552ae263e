"""Shared pytest fixtures: a temp project folder with a config file, and a CLI runner."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import shared_cache
from click.testing import CliRunner, Result

from processhealth.config import Config, load_config
from processhealth.duckdb_files import THREADS_VAR

SECRET_VARS = ("GITHUB_TOKEN", "JIRA_EMAIL", "JIRA_TOKEN", "SLACK_TOKEN", "PROCESSHEALTH_SALT")
# A run writes about 2.5 GB of DuckDB files (pyproject keeps them only for failed tests).
TMPFS, TMPFS_FREE = Path("/dev/shm"), 8 << 30


def pytest_configure(config: pytest.Config) -> None:
    """Temporary files in memory when /dev/shm has room and neither TMPDIR nor --basetemp says
    otherwise: DuckDB syncs each commit to disk, and the suite's hundreds of databases made that
    a sixth of its wall time (3:26 -> 2:55 on 2 idle cores). Set in the first process, so the
    xdist workers and every command a test starts inherit it; `TMPDIR=/tmp` turns it off."""
    _threads_per_worker(config)
    if "TMPDIR" in os.environ or config.option.basetemp or not TMPFS.is_dir():
        return
    stat = os.statvfs(TMPFS)
    if stat.f_bavail * stat.f_frsize < TMPFS_FREE or not os.access(TMPFS, os.W_OK):
        return
    folder = TMPFS / f"processhealth-tests-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.environ["TMPDIR"] = str(folder)
    tempfile.tempdir = None  # gettempdir() looks again


def _threads_per_worker(config: pytest.Config) -> None:
    """DuckDB threads per connection: the cores shared among the xdist workers, unless
    PROCESSHEALTH_DUCKDB_THREADS says otherwise. Two builds at once on 2 cores took 2.94-3.0 s
    each with DuckDB's default (every core each), 2.44 s with one thread each, as one alone."""
    workers = getattr(config.option, "numprocesses", None)
    if isinstance(workers, int) and workers > 1 and THREADS_VAR not in os.environ:
        os.environ[THREADS_VAR] = str(max(1, (os.cpu_count() or 1) // workers))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with a test marked slow first (each file's tests stay together, in order): with
    `--dist loadfile --no-loadscope-reorder` (pyproject) the two workers take the long files
    first and share the short ones at the end, instead of one long file keeping one worker busy
    while the other has finished."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture(scope="session", autouse=True)
def _shared_cache_root(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Where tests/shared_cache.py keeps what the workers of this run share."""
    shared_cache.ROOT = shared_cache.root_for(tmp_path_factory.getbasetemp())


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every environment variable the default config refers to."""
    for name in (*SECRET_VARS, "PROCESSHEALTH_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """write_config(toml_text) -> path of tmp_path/processhealth.toml."""
    def write(text: str = "") -> Path:
        path = tmp_path / "processhealth.toml"
        path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Config:
    """A loaded default config whose databases live in tmp_path."""
    return load_config(write_config(""))


@pytest.fixture
def run_cli(no_secrets: None) -> Callable[..., Result]:
    """run_cli(config_path, *args, env=None) -> click Result (output holds stdout and stderr)."""
    from processhealth.cli import cli  # imported here so a broken CLI fails only CLI tests

    def run(config_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli, ["--config", str(config_path), *args], env=env)
    return run

