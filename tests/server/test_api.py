"""`lipsync-studio serve` end to end: a real uvicorn on 127.0.0.1 started by the test,
real renders with the draft model on tiny media, requests on the standard library."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from app.server.uploads import ORPHAN_AGE_S
from tests.support.api import Server, start_server
from tests.support.mediagen import make_audio, make_video
from tests.support.paths import REPO

MAX_UPLOAD_MB = 1


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """The allowed folder: a 1 s presenter clip, 1 s and 90 s of speech-like audio."""
    root = tmp_path_factory.mktemp("allowed")
    make_video(root / "presenter.mp4", 64, 48, seconds=1.0)
    make_audio(root / "hello.wav", seconds=1.0, kind="speechlike")
    make_audio(root / "long.wav", seconds=90.0, kind="speechlike")
    (root / "notes.mp4").write_text("not a video at all\n")
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory, media) -> Server:
    home = tmp_path_factory.mktemp("serve_home")
    running = start_server(
        home,
        "--allow-dir",
        media,
        "--output-dir",
        home / "out",
        "--max-upload-mb",
        MAX_UPLOAD_MB,
    )
    yield running
    # uvicorn exits by the signal it got; the CLI turns a SIGTERM into 128 + 15
    assert running.stop() in (0, -signal.SIGTERM, 128 + signal.SIGTERM)


def submit(server: Server, video: Path, audio: Path, **options: object) -> dict:
    reply = server.post_json(
        "/v1/jobs", {"video": str(video), "audio": str(audio), "model": "draft", **options}
    )
    assert reply.status == 201, reply.body
    return reply.json()


def media_facts(path: Path) -> dict:
    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        return {
            "size": (video.codec_context.width, video.codec_context.height),
            "frames": sum(1 for _ in container.decode(video=0)),
            "fps": float(video.average_rate),
            "audio_s": float(audio.duration * audio.time_base),
        }


# -- submitting, following, downloading ----------------------------------------------------


def test_submit_by_path_follow_progress_and_download(server, media, tmp_path):
    job = submit(server, media / "presenter.mp4", media / "long.wav", name="by_path.mp4")
    assert job["output"] == str(server.home / "out" / "by_path.mp4")
    assert job["state"] in ("queued", "running")  # the idle server may have claimed it

    events = list(server.events(job["id"]))
    states = [data["state"] for event, data in events if event == "state"]
    progress = [data for event, data in events if event == "progress"]
    assert states[-1] == "done" and "running" in states
    finished = events[-1][1]
    assert finished["face_frames"] == 0 and "face" in finished["warning"]  # a test pattern
    assert finished["model_used"] == "draft"
    progress = [p for p in progress if p["total"]]  # the first may come before the plan
    assert progress and all(p["done"] <= p["total"] == 90 * 25 for p in progress)
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
    assert any(p["fps"] > 0 and p["eta_s"] is not None for p in progress)

    whole = server.get(f"/v1/jobs/{job['id']}/output")
    assert whole.status == 200 and whole.headers["content-type"] == "video/mp4"
    saved = tmp_path / "downloaded.mp4"
    saved.write_bytes(whole.body)
    facts = media_facts(saved)
    assert facts["size"] == (64, 48) and facts["fps"] == pytest.approx(25)
    assert facts["frames"] == 90 * 25
    assert facts["audio_s"] == pytest.approx(90.0, abs=0.05)

    # A byte range, as a player seeking or a download resuming asks for it.
    part = server.get(f"/v1/jobs/{job['id']}/output", headers={"Range": "bytes=100-1099"})
    assert part.status == 206
    assert part.headers["content-range"] == f"bytes 100-1099/{len(whole.body)}"
    assert part.body == whole.body[100:1100]


def test_submit_by_upload(server, media, tmp_path):
    reply = server.upload(
        {"video": media / "presenter.mp4", "audio": media / "hello.wav"},
        {"options": '{"model": "draft", "name": "{video}_{audio}_up.mp4"}'},
    )
    assert reply.status == 201, reply.body
    job = reply.json()
    assert Path(job["video"]).name == "presenter.mp4" and Path(job["video"]).parent != media
    assert Path(job["output"]).name == "presenter_hello_up.mp4"
    assert server.wait_for(job["id"], ["done", "failed"])["state"] == "done"
    body = server.get(f"/v1/jobs/{job['id']}/output").body
    (tmp_path / "up.mp4").write_bytes(body)
    facts = media_facts(tmp_path / "up.mp4")
    assert facts["frames"] == 25 and facts["audio_s"] == pytest.approx(1.0, abs=0.05)
    # The uploaded copies are the server's; the sender's files are untouched.
    assert Path(job["video"]).read_bytes() == (media / "presenter.mp4").read_bytes()
    # Forgetting the job deletes the uploaded copies; the render stays.
    assert server.request("DELETE", f"/v1/jobs/{job['id']}").status == 204
    assert not Path(job["video"]).parent.exists() and Path(job["output"]).is_file()
    assert server.get(f"/v1/jobs/{job['id']}").status == 404


def test_cancel_a_running_job_leaves_no_file_then_retry_renders_it(server, media):
    job = submit(server, media / "presenter.mp4", media / "long.wav", name="cancelled.mp4")
    output = Path(job["output"])
    cancelled = None
    for event, data in server.events(job["id"]):
        if event == "progress" and data["done"] > 0 and cancelled is None:
            busy = server.request("DELETE", f"/v1/jobs/{job['id']}")
            assert busy.status == 409 and "cancel it first" in busy.json()["message"]
            cancelled = server.request("POST", f"/v1/jobs/{job['id']}/cancel")
    assert cancelled is not None and cancelled.status == 200, cancelled
    assert cancelled.json()["state"] == "cancelled" and (event, data["state"]) == (
        "state",
        "cancelled",
    )
    assert server.get(f"/v1/jobs/{job['id']}").json()["state"] == "cancelled"
    # The runner lets go within a second; then neither the .part nor the output exists.
    assert _eventually(lambda: not output.with_name(output.name + ".part").exists())
    assert not output.exists()
    again = server.request("POST", f"/v1/jobs/{job['id']}/cancel")
    assert again.status == 409 and again.json()["code"] == "wrong_state"
    assert download_refused(server, job["id"]) == 409

    retried = server.request("POST", f"/v1/jobs/{job['id']}/retry")
    assert retried.status == 200 and retried.json()["state"] == "queued"
    assert server.wait_for(job["id"], ["done", "failed"])["state"] == "done"
    assert media_facts(output)["frames"] == 90 * 25


def download_refused(server: Server, job_id: int) -> int:
    reply = server.get(f"/v1/jobs/{job_id}/output")
    assert reply.json()["code"] in ("wrong_state", "no_job")
    return reply.status


def _eventually(check, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


# -- refusals ------------------------------------------------------------------------------


def test_health_is_open_everything_else_needs_the_token(server):
    health = server.get("/v1/health", token=None)
    assert health.status == 200 and health.json()["status"] == "ok"
    for token in (None, "wrong-token"):
        reply = server.get("/v1/jobs", token=token)
        assert reply.status == 401
        assert reply.json()["code"] == "unauthorized"
        assert str(server.home / "data" / "server-token") in reply.json()["message"]
        assert reply.headers["www-authenticate"] == "Bearer"
    # Refused before the body is read: no job from an upload without the token.
    before = server.get("/v1/jobs").json()["total"]
    assert server.request("POST", "/v1/jobs", body=b"{}", token=None).status == 401
    assert server.get("/v1/jobs").json()["total"] == before
    # No CORS: a web page's preflight gets no Access-Control-Allow-Origin.
    preflight = server.request(
        "OPTIONS",
        "/v1/jobs",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        token=None,
    )
    assert "access-control-allow-origin" not in {k.lower() for k in preflight.headers}


def test_token_file_is_user_only(server):
    mode = (server.home / "data" / "server-token").stat().st_mode & 0o777
    assert mode == 0o600


def test_paths_outside_the_allowed_folders_are_refused(server, media, tmp_path):
    outside = tmp_path / "private"
    outside.mkdir()
    make_video(outside / "secret.mp4", 64, 48, seconds=1.0)
    link = media / "innocent.mp4"
    link.symlink_to(outside / "secret.mp4")
    before = server.get("/v1/jobs").json()["total"]
    escapes = [
        str(media / ".." / outside.relative_to(media.parent) / "secret.mp4"),  # ../ out
        str(link),  # a link inside the root that points out of it
    ]
    for video in escapes:
        reply = server.post_json(
            "/v1/jobs", {"video": video, "audio": str(media / "hello.wav"), "model": "draft"}
        )
        assert reply.status == 403, reply.body
        assert reply.json()["code"] == "outside_allowed_dirs"
        assert video in reply.json()["message"]
    assert server.get("/v1/jobs").json()["total"] == before
    link.unlink()


def test_an_upload_over_the_limit_is_refused(server, media, tmp_path):
    big = tmp_path / "big.wav"
    make_audio(big, seconds=60.0)  # ~1.9 MB of PCM: over the 1 MiB limit
    assert big.stat().st_size > MAX_UPLOAD_MB * 1024 * 1024
    before = server.get("/v1/jobs").json()["total"]
    reply = server.upload({"video": media / "presenter.mp4", "audio": big})
    assert reply.status == 413
    assert reply.json()["code"] == "too_large" and "limit" in reply.json()["message"]
    # Sent in chunks, with no Content-Length to refuse it by: stopped once past the limit.
    head = (
        b'--b\r\nContent-Disposition: form-data; name="video"; filename="v.mp4"\r\n'
        b"Content-Type: video/mp4\r\n\r\n"
    )
    chunked = server.request(
        "POST",
        "/v1/jobs/upload",
        body=iter([head, *[b"x" * 65536] * 32, b"\r\n--b--\r\n"]),
        headers={"Content-Type": "multipart/form-data; boundary=b", "Transfer-Encoding": "chunked"},
    )
    assert chunked.status == 413 and chunked.json()["code"] == "too_large"
    assert server.get("/v1/jobs").json()["total"] == before


def test_malformed_json_and_a_text_file_named_mp4_are_422(server, media):
    reply = server.post_json("/v1/jobs", b'{"video": "/x.mp4", ')
    assert reply.status == 422 and reply.json()["code"] == "malformed_json"

    reply = server.post_json(
        "/v1/jobs", {"video": str(media / "notes.mp4"), "audio": str(media / "hello.wav")}
    )
    assert reply.status == 422 and reply.json()["code"] == "bad_input"
    message = reply.json()["message"]
    assert message.startswith(f"{media / 'notes.mp4'}: ") and "\n" not in message  # as given

    uploads = server.home / "data" / "uploads"
    stored = set(uploads.iterdir()) if uploads.exists() else set()
    reply = server.upload({"video": media / "notes.mp4", "audio": media / "hello.wav"})
    assert reply.status == 422 and reply.json()["message"].startswith("notes.mp4: ")
    assert set(uploads.iterdir()) == stored  # a refused upload leaves nothing behind

    reply = server.post_json("/v1/jobs", {"video": str(media / "presenter.mp4"), "crf": 99})
    assert reply.status == 422 and reply.json()["code"] == "invalid_request"
    assert server.get("/v1/jobs/999999").json() == {"code": "no_job", "message": "no job 999999"}


def test_docs_work_offline(server):
    page = server.get("/docs", token=None)
    assert page.status == 200 and b"/docs/assets/swagger-ui-bundle.js" in page.body
    assert b"cdn." not in page.body  # nothing from the network
    script = server.get("/docs/assets/swagger-ui-bundle.js", token=None)
    assert script.status == 200 and len(script.body) > 100_000
    schema = server.get("/openapi.json", token=None).json()
    assert {"/v1/jobs", "/v1/jobs/upload", "/v1/batches", "/v1/jobs/{job_id}/events"} <= set(
        schema["paths"]
    )


def test_models_list(server):
    models = {m["name"]: m for m in server.get("/v1/models").json()}
    assert models["draft"]["status"] == "installed"
    assert models["wav2lip_96"]["non_commercial"] is True


def test_uploads_of_jobs_removed_elsewhere_are_deleted_at_the_next_start(media, tmp_path):
    """`queue clear-done` (or the desktop app) forgets jobs without knowing about the
    server's uploaded copies; the server deletes the orphans when it starts again."""
    home = tmp_path / "home"
    files = {"video": media / "presenter.mp4", "audio": media / "hello.wav"}
    options = {"options": '{"model": "draft"}'}
    first = start_server(home, "--allow-dir", media, "--output-dir", home / "out")
    try:
        gone = first.upload(files, options).json()
        assert first.wait_for(gone["id"], ["done", "failed"])["state"] == "done"
        env = {**os.environ, "LIPSYNC_STUDIO_HOME": str(home)}
        cleared = subprocess.run(
            [sys.executable, "-m", "app", "queue", "clear-done"], cwd=REPO, env=env
        )
        assert cleared.returncode == 0
        kept = first.upload(files, options).json()  # still a job: its inputs stay
    finally:
        first.stop()
    gone_dir, kept_dir = Path(gone["video"]).parent, Path(kept["video"]).parent
    long_ago = time.time() - 2 * ORPHAN_AGE_S
    for folder in (gone_dir, kept_dir):
        os.utime(folder, (long_ago, long_ago))
    young = gone_dir.parent / "just-being-submitted"  # by another server, not queued yet
    young.mkdir()

    second = start_server(home, "--allow-dir", media, "--output-dir", home / "out")
    try:
        assert not gone_dir.exists()
        assert kept_dir.is_dir() and Path(kept["audio"]).is_file() and young.is_dir()
        assert Path(gone["output"]).is_file()  # the render is the user's: never deleted
    finally:
        second.stop()
