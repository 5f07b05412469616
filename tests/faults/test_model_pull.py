"""`models pull` from a server that accepts the connection and never answers (issue 11,
item 11): a short timeout, a line per retry, and a cancel that works at once. The
server is a socket on 127.0.0.1 that accepts and then says nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.errors import DownloadCancelled
from app.engine.models import registry as models
from app.engine.models.download import MIRROR_ENV, download

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A base URL whose server accepts every connection and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # kept open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def pull(base: str, *argv: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    env[MIRROR_ENV] = base
    return subprocess.Popen(
        [sys.executable, "-m", "app", "models", "pull", "wav2lip_96", *argv],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_silent_server_fails_in_seconds_with_a_line_per_retry(silent_server):
    started = time.monotonic()
    proc = pull(silent_server, "--timeout", "0.3", "--retries", "2")
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    retries = [line for line in err.splitlines() if "retrying in" in line]
    assert len(retries) == 2, err  # attempt 2 of 3, attempt 3 of 3
    assert "attempt 3 of 3" in retries[-1] and "timed out" in retries[0]
    assert "could not download model wav2lip_96" in err
    assert took < 20  # 3 x 0.3 s + 1 + 2 s of backoff, plus start-up
    assert models.status("wav2lip_96") == "missing"


def test_sigterm_stops_a_pull_waiting_on_a_silent_server(silent_server):
    proc = pull(silent_server, "--timeout", "30")
    time.sleep(1.5)  # started, connected, waiting for an answer that never comes
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)  # not the 30 s timeout
    assert proc.returncode == 143, err
    assert "Traceback" not in err


def test_cancel_ends_a_download_waiting_between_retries(silent_server):
    cancel = threading.Event()
    lines: list[str] = []

    def on_retry(line: str) -> None:
        lines.append(line)
        cancel.set()  # the user presses Cancel during the wait before the next try

    started = time.monotonic()
    with pytest.raises(DownloadCancelled):
        download(
            "wav2lip_96",
            cancel=cancel,
            retries=5,
            backoff=30,
            timeout=0.3,
            mirrors=[silent_server],
            on_retry=on_retry,
        )
    assert time.monotonic() - started < 5  # not the 30 s backoff
    assert len(lines) == 1 and "retrying in 30 s" in lines[0]
