"""The window shows jobs that came in over the automation API (another process), and
their changes, without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine.queue.jobstore import JobStore
from app.ui.batch_model import COL_STATE, COL_VIDEO
from tests.mediagen import make_audio, make_video
from tests.support.api import start_server


@pytest.fixture
def store() -> Iterator[JobStore]:
    """The window on the data folder's queue, the one `serve` uses (make_window takes it)."""
    with JobStore() as job_store:
        yield job_store


def cell(window, row: int, column: int) -> str:
    return str(window.model.data(window.model.index(row, column)))


def test_jobs_submitted_over_the_api_appear_and_change_in_the_window(
    qtbot, make_window, isolated_app_home: Path, tmp_path: Path
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    make_video(media / "api_presenter.mp4", 64, 48, seconds=1.0)
    make_audio(media / "api_voice.wav", seconds=1.0, kind="speechlike")
    window = make_window()
    window.show()
    assert window.model.rowCount() == 0
    server = start_server(isolated_app_home, "--allow-dir", media, "--no-render")
    try:
        reply = server.post_json(
            "/v1/jobs",
            {
                "video": str(media / "api_presenter.mp4"),
                "audio": str(media / "api_voice.wav"),
                "model": "draft",
            },
        )
        assert reply.status == 201, reply.body
        qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=5000)
        assert cell(window, 0, COL_VIDEO) == "api_presenter.mp4"
        assert cell(window, 0, COL_STATE) == window.model.tr("Queued")

        job_id = reply.json()["id"]
        assert server.request("POST", f"/v1/jobs/{job_id}/cancel").status == 200
        qtbot.waitUntil(lambda: window.model.jobs()[0].state == "cancelled", timeout=5000)
    finally:
        server.stop()
