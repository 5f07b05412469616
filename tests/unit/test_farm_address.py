"""A --ray-address where no cluster answers: said at once, with the address, not after
Ray's minutes of retries. Its own module: the farm tests keep a cluster joined."""

from __future__ import annotations

import socket
import time

import pytest

pytest.importorskip("ray")

from app.cli import main  # noqa: E402
from app.engine.queue.jobstore import JobStore  # noqa: E402
from tests.support.mediagen import make_audio, make_video  # noqa: E402


def test_an_address_where_nothing_listens_is_refused_in_seconds(tmp_path, capsys):
    video, audio = make_video(tmp_path / "talk.mp4"), make_audio(tmp_path / "voice.wav")
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    argv = ["batch", "--videos", video, "--audios", audio, "--out", tmp_path, "--model", "draft"]
    argv += ["--engine", "ray", "--ray-address", f"127.0.0.1:{port}"]
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"127.0.0.1:{port}: no Ray cluster answers there" in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 60  # not Ray's two minutes of retries
    with JobStore() as store:  # the job waits in the queue for a cluster that answers
        (job,) = store.page(limit=10)
    assert job.state == "queued" and not (tmp_path / "talk_voice.mp4").exists()
