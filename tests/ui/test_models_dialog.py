"""The models dialog over the real registry: status, licence prompt, download, import,
verify, delete. Downloads come from a server on 127.0.0.1 (no network)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QMessageBox

from app.engine.models import registry as models
from app.engine.models.download import MIRROR_ENV
from app.ui.models_dialog import COL_LICENCE, COL_NAME, COL_STATUS, ModelsDialog
from app.ui.tasks import Tasks

YUNET = "yunet_2026may"


class SlowServer(ThreadingHTTPServer):
    """Serves one file; the first GET waits for `release` before sending its body."""

    daemon_threads = True

    def __init__(self, body: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.body = body
        self.release = threading.Event()
        self.ranges: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    server: SlowServer

    def do_GET(self) -> None:  # noqa: N802
        wanted = self.headers.get("Range")
        self.server.ranges.append(wanted)
        body = self.server.body
        start = int(wanted.split("=")[1].rstrip("-")) if wanted else 0
        if start >= len(body):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.server.release.wait(10)
        self.wfile.write(body[start:])

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def tasks(qtbot) -> Iterator[Tasks]:
    pool = QThreadPool()
    tasks = Tasks(pool)
    yield tasks
    tasks.shutdown()


@pytest.fixture
def dialog(qtbot, tasks) -> ModelsDialog:
    dialog = ModelsDialog(tasks)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    return dialog


def cell(dialog: ModelsDialog, name: str, col: int) -> str:
    for r in range(dialog.table.rowCount()):
        if dialog.table.item(r, COL_NAME).text() == name:
            return dialog.table.item(r, col).text()
    raise KeyError(name)


def wait_status(qtbot, dialog: ModelsDialog, name: str, text: str) -> None:
    qtbot.waitUntil(lambda: cell(dialog, name, COL_STATUS) == text, timeout=15_000)


def test_lists_every_registry_model_with_status_and_licence(dialog) -> None:
    names = [dialog.table.item(r, COL_NAME).text() for r in range(dialog.table.rowCount())]
    assert names == ["draft", *models.load_registry().names()]  # the built-in one first
    statuses = {n: cell(dialog, n, COL_STATUS) for n in names}
    assert statuses.pop("draft") == "installed"
    assert statuses.pop(YUNET) == "installed"  # ships with the app
    assert set(statuses.values()) == {"not installed"}
    assert "non-commercial" in cell(dialog, "wav2lip_96", COL_LICENCE).lower()
    assert cell(dialog, YUNET, COL_LICENCE) == "MIT"


@pytest.mark.usefixtures("without_shipped_models")
def test_import_verify_corrupt_and_delete(qtbot, dialog, yunet_path, monkeypatch) -> None:
    dialog.import_path(yunet_path)  # recognised by its sha256
    wait_status(qtbot, dialog, YUNET, "installed")
    dialog.select(YUNET)
    dialog.verify_selected()
    qtbot.waitUntil(lambda: "matches its checksum" in dialog.message.text(), timeout=10_000)

    installed = models.model_path(YUNET)
    installed.write_bytes(installed.read_bytes()[:-10] + b"0123456789")  # damaged on disk
    dialog.verify_selected()
    wait_status(qtbot, dialog, YUNET, "corrupt")
    assert "damaged" in dialog.message.text()

    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes,
    )
    dialog.select(YUNET)
    dialog.delete_selected()
    wait_status(qtbot, dialog, YUNET, "not installed")
    assert asked and not installed.exists()


def test_non_commercial_model_asks_before_download(qtbot, dialog, monkeypatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No
    )
    assert dialog.start_download("wav2lip_96") is False
    assert len(asked) == 1 and "non-commercial" in asked[0]
    assert not dialog.downloading and not dialog.tasks.busy()


@pytest.mark.usefixtures("without_shipped_models")
def test_download_shows_progress_cancels_and_resumes(
    qtbot, dialog, yunet_path, monkeypatch
) -> None:
    server = SlowServer(yunet_path.read_bytes())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(MIRROR_ENV, server.url)
    try:
        assert dialog.start_download(YUNET)  # MIT: no licence prompt
        assert not dialog.progress.isHidden() and dialog.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: dialog.progress.maximum() == 1000, timeout=10_000)  # size known
        dialog.cancel_button.click()
        server.release.set()
        qtbot.waitUntil(lambda: not dialog.downloading, timeout=10_000)
        assert "cancelled" in dialog.message.text()
        wait_status(qtbot, dialog, YUNET, "not installed (partial download)")

        dialog.select(YUNET)
        assert dialog.download_button.isEnabled()
        dialog.download_button.click()  # resumes from the partial file
        wait_status(qtbot, dialog, YUNET, "installed")
        assert server.ranges[0] is None and server.ranges[-1] is not None  # a Range request
        assert models.verify(YUNET)
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def test_window_offers_the_download_for_a_missing_model(
    qtbot, make_window, pattern_clip, speech, monkeypatch
) -> None:
    offers: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *a, **k: offers.append(a[2]) or QMessageBox.StandardButton.Yes,
    )
    window = make_window(model="edtalk_256")
    window.add_paths([pattern_clip, speech("a.wav")])
    qtbot.waitUntil(lambda: bool(offers), timeout=15_000)
    assert "edtalk_256" in offers[0] and "not installed" in offers[0]
    dialog = window.models_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.selected_name() == "edtalk_256", timeout=10_000)
    assert Path(window.model.jobs()[0].output).suffix == ".mp4"
