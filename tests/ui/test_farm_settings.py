"""Settings → "Render on: Ray cluster": the status bar says where jobs render, and a job
added in the window renders on the (local, started here) Ray cluster."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from app.ui.app_settings import AppSettings, open_settings
from app.ui.settings_dialog import SettingsDialog
from tests.support.farm import start_local_ray
from tests.support.media import stream_facts
from tests.support.person import drop, wait_jobs

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory):
    yield start_local_ray(tmp_path_factory.mktemp("ray-node-home"))
    ray.shutdown()


def choose_ray_cluster(qtbot, window, address: str) -> None:
    """Settings → Render on: Ray cluster at `address`, by keyboard and mouse."""
    dialog = window.open_settings()
    assert isinstance(dialog, SettingsDialog) and not dialog.ray_address.isEnabled()
    dialog.render_on.setFocus()
    qtbot.keyClick(dialog.render_on, Qt.Key.Key_Down)  # This computer -> Ray cluster
    assert dialog.render_on.currentData() == "ray" and dialog.ray_address.isEnabled()
    dialog.ray_address.clear()
    qtbot.keyClicks(dialog.ray_address, address)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_render_on_a_ray_cluster_from_settings(
    qtbot, make_window, face_clip, speech, ray_cluster
) -> None:
    window = make_window()
    assert window.target_label.text() == "Render on: this computer"

    choose_ray_cluster(qtbot, window, ray_cluster)

    # Joined off the GUI thread; the cluster has 2 CPUs, a CPU job takes 2.
    qtbot.waitUntil(lambda: "jobs at once:" in window.target_label.text(), timeout=60_000)
    assert (
        window.target_label.text() == f"Render on: Ray cluster at {ray_cluster} (jobs at once: 1)"
    )
    saved = AppSettings.load(open_settings())
    assert (saved.render_on, saved.ray_address) == ("ray", ray_cluster)

    drop(window, [face_clip, speech("hello.wav", 1.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    window.act_start.trigger()
    qtbot.waitUntil(lambda: window.store.get(job.id).state == "done", timeout=120_000)
    assert stream_facts(job.output)["frames"] == 25
    assert window.queue.scheduler.slots == {"cpu": 1}


def test_an_unreachable_cluster_is_said_briefly_with_the_reason_in_the_tooltip(
    qtbot, make_window, monkeypatch
) -> None:
    from app.engine.errors import InputError
    from app.engine.farm import cluster

    reason = (
        "10.9.9.9:6379: no Ray cluster answers there (timed out); start one "
        "with `ray start --head` or give HOST:PORT"
    )

    def unreachable(address: str = "auto") -> None:  # what connect raises after its timeout
        raise InputError(reason)

    monkeypatch.setattr(cluster, "connect", unreachable)
    window = make_window()
    choose_ray_cluster(qtbot, window, "10.9.9.9:6379")
    qtbot.waitUntil(lambda: "not reachable" in window.target_label.text(), timeout=10_000)
    assert window.target_label.text() == ("Render on: Ray cluster at 10.9.9.9:6379 (not reachable)")
    assert window.target_label.toolTip() == reason
    said = "Cannot render on the Ray cluster; the jobs wait in the queue"
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == said, timeout=10_000)
