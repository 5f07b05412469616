"""The app's own data folder when it is read-only or its queue file is damaged (issue 11,
item 9): one line naming the file and what to do; a damaged queue is kept aside and a
fresh one started, and the command goes on."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.queue.jobstore import DB_NAME, JobStore

REPO = Path(__file__).resolve().parents[2]


def cli(home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LIPSYNC_STUDIO_HOME=str(home), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-B", "-m", "app", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[Path]:
    """An app home whose queue exists, then made read-only: by permissions for a normal
    user; for root (who ignores them) by remounting a small tmpfs read-only."""
    home = tmp_path / "home"
    home.mkdir()
    mounted = False
    if os.geteuid() == 0:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(home)]).returncode:
            pytest.skip("root without the right to mount a tmpfs: cannot make a read-only folder")
        mounted = True
    assert cli(home, "queue", "list").returncode == 0  # creates data/jobs.sqlite3
    try:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(home)], check=True)
        else:
            for path in sorted(home.rglob("*"), reverse=True):
                path.chmod(0o555 if path.is_dir() else 0o444)
        yield home
    finally:
        if mounted:
            subprocess.run(["umount", str(home)], check=True)
        else:
            for path in home.rglob("*"):
                path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_read_only_queue_is_one_line_with_the_fix(read_only_home):
    done = cli(read_only_home, "queue", "list")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert str(read_only_home / "data" / DB_NAME) in line
    assert "writable" in line and "LIPSYNC_STUDIO_HOME" in line


@pytest.mark.parametrize("damage", ["random bytes", "cut in half"])
def test_a_damaged_queue_is_kept_aside_and_a_fresh_one_started(isolated_app_home, damage):
    db = isolated_app_home / "data" / DB_NAME
    db.parent.mkdir(parents=True, exist_ok=True)
    if damage == "random bytes":
        db.write_bytes(os.urandom(64 * 1024))
    else:
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE filler (x BLOB)")
            conn.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(4000),)] * 50)
        conn.close()
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    damaged = db.read_bytes()

    done = cli(isolated_app_home, "queue", "list")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    aside = db.with_name(f"{DB_NAME}.damaged-1")
    assert f"{db} was damaged; moved it to {aside}" in done.stderr
    assert aside.read_bytes() == damaged  # kept, byte for byte
    with JobStore() as store:  # the fresh queue works, and says nothing more
        assert store.set_aside is None and store.count() == 0
