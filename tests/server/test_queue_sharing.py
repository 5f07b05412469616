"""The API over the shared job queue: batches with the CLI's pairing rules, paging and
priorities, one queue runner at a time (the lock the GUI and `batch` take), and a clean
stop that puts the running job back in the queue."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from app.cli import main
from app.engine.queue.filelock import RUNNER_LOCK, FileLock
from app.engine.queue.jobstore import JobStore
from tests.mediagen import make_audio, make_video
from tests.support.api import Server, start_server


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("allowed")
    for name in ("alice", "bob", "carol"):
        make_video(root / f"{name}.mp4", 64, 48, seconds=1.0)
    for name in ("alice_intro", "alice_outro", "bob", "zed"):
        make_audio(root / f"{name}.wav", seconds=0.4, kind="speechlike")
    make_audio(root / "long.wav", seconds=120.0, kind="speechlike")
    return root


@pytest.fixture(scope="module")
def queue_only(tmp_path_factory, media) -> Server:
    """A server that queues but does not render: the queue's order stays put."""
    home = tmp_path_factory.mktemp("queue_only")
    running = start_server(home, "--allow-dir", media, "--output-dir", home / "out", "--no-render")
    yield running
    running.stop()


def test_batch_by_name_pairs_like_the_cli(queue_only, media):
    reply = queue_only.post_json(
        "/v1/batches",
        {
            "videos": [str(media / f"{n}.mp4") for n in ("alice", "bob", "carol")],
            "audios": [
                str(media / f"{n}.wav") for n in ("alice_intro", "alice_outro", "bob", "zed")
            ],
            "pair": "by-name",
            "model": "draft",
            "name": "{index}-{video}-{audio}.mp4",
        },
    )
    assert reply.status == 201, reply.body
    jobs = reply.json()["jobs"]
    pairs = [(Path(j["video"]).stem, Path(j["audio"]).stem, Path(j["output"]).name) for j in jobs]
    assert pairs == [
        ("alice", "alice_intro", "1-alice-alice_intro.mp4"),
        ("alice", "alice_outro", "2-alice-alice_outro.mp4"),
        ("bob", "bob", "3-bob-bob.mp4"),
    ]
    assert reply.json()["warnings"] == ["no audio named like carol.mp4", "no video for zed.wav"]

    each = queue_only.post_json(
        "/v1/batches",
        {
            "videos": [str(media / "alice.mp4"), str(media / "bob.mp4")],
            "audios": [str(media / "bob.wav"), str(media / "zed.wav")],
            "model": "draft",
            "name": "{video}-{audio}.mp4",
        },
    ).json()["jobs"]
    names = [Path(j["output"]).name for j in each]
    # every video with every audio; a name a queued job already has gets _2
    assert names == ["alice-bob.mp4", "alice-zed.mp4", "bob-bob.mp4", "bob-zed.mp4"]
    again = queue_only.post_json(
        "/v1/batches",
        {
            "pairs": [{"video": str(media / "bob.mp4"), "audio": str(media / "bob.wav")}],
            "model": "draft",
            "name": "{video}-{audio}.mp4",
        },
    ).json()["jobs"]
    assert Path(again[0]["output"]).name == "bob-bob_2.mp4"


def test_a_bad_file_in_a_batch_queues_nothing(queue_only, media, tmp_path):
    before = queue_only.get("/v1/jobs").json()["total"]
    (media / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    reply = queue_only.post_json(
        "/v1/batches",
        {
            "videos": [str(media / "alice.mp4")],
            "audios": [str(media / "bob.wav"), str(media / "broken.wav")],
        },
    )
    assert reply.status == 422
    assert reply.json()["message"].startswith(f"{media / 'broken.wav'}: ")  # the path as given
    assert queue_only.get("/v1/jobs").json()["total"] == before


def test_list_pages_filters_and_sorts_like_queue_list(queue_only, media, capsys):
    ids = []
    for priority in (0, 5, 0, 9):
        job = queue_only.post_json(
            "/v1/jobs",
            {
                "video": str(media / "carol.mp4"),
                "audio": str(media / "zed.wav"),
                "model": "draft",
                "priority": priority,
            },
        ).json()
        ids.append(job["id"])
    moved = queue_only.request(
        "PUT",
        f"/v1/jobs/{ids[2]}/priority",
        body=b'{"priority": 7}',
        headers={"Content-Type": "application/json"},
    )
    assert moved.status == 200 and moved.json()["priority"] == 7

    everything = queue_only.get("/v1/jobs?limit=1000").json()
    order = [j["id"] for j in everything["jobs"]]
    assert everything["total"] == len(order)
    assert order.index(ids[3]) < order.index(ids[2]) < order.index(ids[1]) < order.index(ids[0])
    with JobStore(queue_only.home / "data" / "jobs.sqlite3") as store:
        assert order == [j.id for j in store.page(limit=1000)]  # what `queue list` shows

    first, second = (queue_only.get(f"/v1/jobs?limit=2&offset={o}").json() for o in (0, 2))
    assert [j["id"] for j in first["jobs"] + second["jobs"]] == order[:4]
    assert queue_only.request("POST", f"/v1/jobs/{ids[0]}/cancel").status == 200
    cancelled = queue_only.get("/v1/jobs?state=cancelled").json()
    assert [j["id"] for j in cancelled["jobs"]] == [ids[0]] and cancelled["total"] == 1
    by_creation = queue_only.get("/v1/jobs?order=created&limit=1000").json()["jobs"]
    assert [j["id"] for j in by_creation] == sorted(order)
    removed = queue_only.request("DELETE", f"/v1/jobs/{ids[1]}")
    assert removed.status == 204  # a queued job: gone without a trace
    assert queue_only.get(f"/v1/jobs/{ids[1]}").status == 404
    bad = queue_only.get("/v1/jobs?state=sleeping")
    assert bad.status == 422 and bad.json()["code"] == "invalid_request"


def test_one_queue_runner_at_a_time_and_sigterm_requeues_the_running_job(tmp_path, media):
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    held = FileLock(home / "data" / RUNNER_LOCK)  # as a GUI or `batch` running the queue
    assert held.acquire()
    server = start_server(home, "--allow-dir", media, "--output-dir", home / "out")
    try:
        job = server.post_json(
            "/v1/jobs",
            {"video": str(media / "alice.mp4"), "audio": str(media / "long.wav"), "model": "draft"},
        ).json()
        # The lock holder renders it (the server would only add the jobs)...
        assert server.get("/v1/queue").json() == {
            "runs_queue": False,
            "counts": {"queued": 1, "running": 0, "done": 0, "failed": 0, "cancelled": 0},
        }
        held.release()  # ...until it exits: the server takes over within seconds
        for event, data in server.events(job["id"]):
            if event == "progress" and data["done"] > 0:
                break
        assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM, 128 + signal.SIGTERM)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    assert "shutdown complete" in server.log.read_text()
    with JobStore(home / "data" / "jobs.sqlite3") as store:
        after = store.get(job["id"])
    assert after.state == "queued" and after.attempts == 0  # keeps its place and its budget
    output = Path(job["output"])
    assert not output.exists() and not output.with_name(output.name + ".part").exists()


def test_a_non_loopback_host_needs_allow_remote(capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "--host 0.0.0.0: not a loopback address" in err and "--allow-remote" in err


def test_bad_options_are_422_with_the_clis_words(queue_only, media):
    pair = {"video": str(media / "alice.mp4"), "audio": str(media / "bob.wav")}
    cases = [
        ({"name": "{speaker}.mp4"}, "name {speaker}.mp4: unknown field {speaker}"),
        ({"name": "{video}.mov"}, "name {video}.mov: the output must be an .mp4 file"),
        ({"model": "wav2lip_96"}, "model wav2lip_96 is not installed"),
        ({"model": "nosuchmodel"}, "unknown model 'nosuchmodel'"),
    ]
    for options, message in cases:
        reply = queue_only.post_json("/v1/jobs", {**pair, **options})
        assert reply.status == 422, reply.body
        assert reply.json()["code"] == "bad_input"
        assert reply.json()["message"].startswith(message), reply.json()
    reply = queue_only.post_json("/v1/jobs", {**pair, "preset": "warp9"})
    assert reply.json() == {
        "code": "invalid_request",
        "message": "preset: Value error, 'warp9' is not one of ultrafast, superfast, "
        "veryfast, faster, fast, medium, slow, slower, veryslow",
    }
