"""The main window end to end: drops, pairing, real renders, cancel, settings, closing."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import av
from PySide6.QtCore import Qt, QTimer, QUrl

from app.engine import outputs
from app.ui import intake
from app.ui import preview as preview_module
from app.ui.app_settings import AppSettings, open_settings
from app.ui.batch_model import COL_OUTPUT, COL_PROGRESS, COL_STATE, FRACTION_ROLE
from app.ui.settings_dialog import SettingsDialog
from tests.support.leftovers import any_temp
from tests.support.mediagen import make_audio
from tests.support.person import drop, wait_jobs


def stream_facts(path: Path) -> tuple[int, int, bool]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return frames, video.codec_context.width, bool(container.streams.audio)


def test_drop_video_and_two_audios_then_start_renders_both(
    qtbot, make_window, face_clip, speech, out_dir, no_dialogs
) -> None:
    window = make_window()
    a1, a2 = speech("hello.wav", 1.0), speech("world.wav", 1.4)
    drop(window, [face_clip, a1, a2])
    wait_jobs(qtbot, window, 2)
    jobs = window.model.jobs()
    assert [(j.video, j.audio, j.state) for j in jobs] == [
        (face_clip, a1, "queued"),
        (face_clip, a2, "queued"),
    ]
    assert [j.output for j in jobs] == [
        out_dir / "presenter_hello.mp4",
        out_dir / "presenter_world.mp4",
    ]
    assert window.windowTitle() == "Lipsync Studio"  # queued, not rendering: no "0%"

    seen: list[tuple] = []
    window.bridge.job_event.connect(lambda job_id, state: seen.append((job_id, state)))
    window.bridge.progress.connect(lambda job_id, p: seen.append((job_id, p.done, p.total)))
    first, second = (j.id for j in jobs)
    expected = [(first, "running"), (first, "done"), (second, "running"), (second, "done")]
    with qtbot.waitSignals(
        [window.bridge.job_event] * 4,
        order="strict",
        timeout=60_000,
        check_params_cbs=[lambda i, s, e=e: (i, s) == e for e in expected],
    ):
        window.act_start.trigger()

    # Per job: running, then progress with growing frame counts to the total, then done.
    for job_id, total in ((first, 25), (second, 35)):
        mine = [e for e in seen if e[0] == job_id]
        assert mine[0] == (job_id, "running") and mine[-1] == (job_id, "done")
        dones = [e[1] for e in mine[1:-1]]
        assert dones and dones == sorted(dones) and mine[-2] == (job_id, total, total)
    assert seen.index((first, "done")) < seen.index((second, "running"))  # one CPU slot

    for job, frames in zip(jobs, (25, 35)):
        assert stream_facts(job.output) == (frames, 160, True)
    row = window.model.row_of(second)
    assert window.model.data(window.model.index(row, COL_STATE)) == "Done · face in 100%"
    assert window.model.data(window.model.index(row, COL_PROGRESS)) == "35 / 35"
    assert window.model.data(window.model.index(row, COL_PROGRESS), FRACTION_ROLE) == 1.0
    assert window.model.data(window.model.index(row, COL_OUTPUT)) == "presenter_world.mp4"
    window.update_summary()
    assert window.overall.value() == 1000
    assert window.summary_label.text().startswith("2 of 2 done")
    assert window.windowTitle() == "Lipsync Studio"  # nothing left to do
    assert no_dialogs == []


def test_output_names_never_collide(
    qtbot, make_window, pattern_clip, speech, out_dir, no_dialogs
) -> None:
    (out_dir / "pattern_a.mp4").write_bytes(b"an earlier render")
    outputs.create_temp(out_dir / "pattern_b.mp4")  # a render in progress elsewhere
    window = make_window()
    drop(window, [pattern_clip, speech("a.wav"), speech("b.wav")])
    wait_jobs(qtbot, window, 2)
    drop(window, [pattern_clip, speech("a.wav")])  # the same pair again: a queued job has it
    wait_jobs(qtbot, window, 3)
    assert sorted(j.output.name for j in window.model.jobs()) == [
        "pattern_a_2.mp4",
        "pattern_a_3.mp4",
        "pattern_b_2.mp4",
    ]
    assert (out_dir / "pattern_a.mp4").read_bytes() == b"an earlier render"


def test_unreadable_drop_shows_one_message_and_adds_nothing(
    qtbot, make_window, tmp_path, no_dialogs
) -> None:
    window = make_window()
    bad1, bad2 = tmp_path / "holiday.mp4", tmp_path / "voice.wav"
    bad1.write_bytes(b"\x00" * 4096)
    bad2.write_text("RIFF but not really")
    drop(window, [bad1, bad2])
    qtbot.waitUntil(lambda: len(no_dialogs) == 1 and not window.intake.busy, timeout=10_000)
    kind, _title, text = no_dialogs[0]
    assert kind == "warning" and "holiday.mp4" in text and "voice.wav" in text
    assert window.model.rowCount() == 0 and window.store.count() == 0


def test_unreadable_files_are_listed_and_the_rest_added(
    qtbot, make_window, pattern_clip, speech, tmp_path, no_dialogs
) -> None:
    window = make_window()
    bad = tmp_path / "broken.mov"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    drop(window, [pattern_clip, bad, speech("a.wav")])
    wait_jobs(qtbot, window, 1)
    assert len(no_dialogs) == 1 and "broken.mov" in no_dialogs[0][2]
    assert "pattern.mp4" not in no_dialogs[0][2]


def test_several_videos_and_audios_ask_and_pair_by_name(
    qtbot, make_window, pattern_clip, tmp_path, monkeypatch, no_dialogs
) -> None:
    alice, bob = (Path(shutil.copy(pattern_clip, tmp_path / f"{n}.mp4")) for n in ("alice", "bob"))
    audios = [
        make_audio(tmp_path / f"{n}.wav", 1.0)
        for n in ("alice_take1", "alice_take2", "bob", "carol")
    ]
    asked: list[tuple[int, int, int, bool]] = []

    def ask(parent, n_videos, n_audios, n_by_name, all_paired):
        asked.append((n_videos, n_audios, n_by_name, all_paired))
        return intake.PAIR_BY_NAME

    monkeypatch.setattr(intake, "ask_pairing", ask)
    window = make_window()
    drop(window, [alice, bob, *audios])
    wait_jobs(qtbot, window, 3)
    assert asked == [(2, 4, 3, False)]
    assert sorted((j.video.stem, j.audio.stem) for j in window.model.jobs()) == [
        ("alice", "alice_take1"),
        ("alice", "alice_take2"),
        ("bob", "bob"),
    ]
    # The one left over waits in the pending bar instead of vanishing.
    assert window.intake.pending_audios == [audios[3]] and not no_dialogs
    assert "carol.wav" in window.pending_bar.label.text()


def test_videos_wait_for_audio_dropped_later(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    drop(window, [pattern_clip])
    qtbot.waitUntil(lambda: window.intake.pending_videos == [pattern_clip], timeout=10_000)
    assert window.model.rowCount() == 0
    drop(window, [speech("a.wav"), speech("b.wav")])
    wait_jobs(qtbot, window, 2)
    assert window.intake.pending_videos == []


def test_cancel_mid_job_leaves_no_output(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    drop(window, [pattern_clip, speech("long.wav", 20.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    window.select_job(job.id)

    def cancel_on_first_progress(job_id, progress):
        if progress.done < progress.total and window.act_cancel.isEnabled():
            window.act_cancel.trigger()

    window.bridge.progress.connect(cancel_on_first_progress)
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "cancelled"
    ):
        window.act_start.trigger()
    qtbot.waitUntil(lambda: not window.scheduler.running_jobs(), timeout=30_000)
    cancelled = window.store.get(job.id)
    assert cancelled.state == "cancelled" and 0 < cancelled.done < 500
    assert not job.output.exists() and not any_temp(job.output)
    row = window.model.row_of(job.id)
    assert window.model.data(window.model.index(row, COL_STATE)) == "Cancelled"
    window.act_pause.trigger()  # no new job starts …
    window.act_retry.trigger()  # … so the retried job waits in the queue
    assert window.store.get(job.id).state == "queued"
    assert window.model.data(window.model.index(row, COL_STATE)) == "Queued"


def test_gui_thread_is_never_blocked_during_a_render(
    qtbot, make_window, face_clip, speech, no_dialogs
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)  # the first paint of a new window is not a render's doing
    drop(window, [face_clip, speech("a.wav", 12.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    window.select_job(job.id)
    # Each tick: wall clock and the GUI thread's own CPU time. Work done ON the GUI
    # thread (decoding, probing, drawing too much) shows as CPU between ticks; a gap with
    # no CPU is the machine's load (GIL, scheduler), which only a long hang must not be.
    ticks: list[tuple[float, float]] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append((time.perf_counter(), time.thread_time())))
    live_frames: list[int] = []
    window.bridge.preview.connect(
        lambda *_: live_frames.append(1) if window.preview.mode == "live" else None
    )
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
        timer.start()
    timer.stop()
    assert len(ticks) > 20  # the render lasted long enough to measure something
    busy = max(b[1] - a[1] for a, b in zip(ticks, ticks[1:]))
    hang = max(b[0] - a[0] for a, b in zip(ticks, ticks[1:]))
    assert busy < 0.100, f"the GUI thread worked {busy * 1000:.0f} ms without a break"
    assert hang < 1.0, f"the GUI thread did not run for {hang * 1000:.0f} ms"
    assert live_frames  # the preview followed the render


def test_settings_survive_a_restart(qtbot, make_window, out_dir, tmp_path) -> None:
    window = make_window()
    dialog = SettingsDialog(window.settings, window, devices=[("auto", "Auto"), ("cpu", "CPU")])
    qtbot.addWidget(dialog)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.crf.setValue(23)
    dialog.preset.setCurrentIndex(dialog.preset.findData("slow"))
    dialog.loop.setCurrentIndex(dialog.loop.findData("repeat"))
    dialog.name_pattern.setText("{audio}-on-{video}.mp4")
    dialog.output_dir.setText(str(tmp_path / "elsewhere"))
    dialog.stall_timeout.setValue(90)
    dialog.max_parallel.setValue(2)
    dialog.mask.setCurrentIndex(dialog.mask.findData("mouth"))
    dialog.feather.setValue(0.5)
    dialog.enhancer.setCurrentIndex(dialog.enhancer.findData("gpen_bfr_512"))
    assert "non-commercial" in dialog.enhancer.currentText()
    window.apply_settings(dialog.values())
    window.shutdown()

    again = make_window(save_settings=False)
    expected = AppSettings(
        device="cpu",
        model="draft",
        detector="haar",
        output_dir=str(tmp_path / "elsewhere"),
        name_pattern="{audio}-on-{video}.mp4",
        crf=23,
        preset="slow",
        loop="repeat",
        stall_timeout_s=90.0,
        max_parallel=2,
        mask="mouth",
        feather=0.5,
        enhancer="gpen_bfr_512",
    )
    assert again.settings == expected
    rendered = again.settings.render_settings(tmp_path / "v.mp4", tmp_path / "a.wav", out_dir)
    assert (rendered.mask, rendered.feather, rendered.enhancer) == ("mouth", 0.5, "gpen_bfr_512")
    assert AppSettings.load(open_settings()) == expected
    assert again.scheduler.slots == {"cpu": 2} and again.scheduler.stall_timeout == 90.0
    reopened = SettingsDialog(again.settings, again, devices=[("cpu", "CPU")])
    qtbot.addWidget(reopened)
    assert reopened.values() == expected


def test_a_bad_name_pattern_cannot_be_saved(qtbot, make_window) -> None:
    window = make_window()
    dialog = SettingsDialog(window.settings, window, devices=[("cpu", "CPU")])
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    dialog.name_pattern.setText("{speaker}.mp4")
    assert not ok.isEnabled() and "speaker" in dialog.problem.text()
    dialog.name_pattern.setText("{video}.mov")
    assert not ok.isEnabled()
    dialog.name_pattern.setText("{video}.mp4")
    assert ok.isEnabled()


def test_closing_while_rendering_asks_then_stops_cleanly(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    drop(window, [pattern_clip, speech("long.wav", 30.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    with qtbot.waitSignal(window.bridge.progress, timeout=30_000):
        window.act_start.trigger()
    assert window.close()
    questions = [d for d in no_dialogs if d[0] == "question"]
    assert len(questions) == 1 and "rendering" in questions[0][2]
    assert window.queue.closed  # stopped, its threads joined
    stopped = window.store.get(job.id)
    assert stopped.state == "queued"  # back in the queue for next time
    assert not job.output.exists() and not any_temp(job.output)


def test_finished_job_plays_and_compares_one_frame(
    qtbot, make_window, face_clip, speech, no_dialogs
) -> None:
    window = make_window()
    drop(window, [face_clip, speech("a.wav", 1.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
    window.select_job(job.id)
    preview = window.preview
    if preview_module.HAVE_MULTIMEDIA:  # the player, with sound
        assert preview.mode == "player" and preview.play_button.isEnabled()
        assert preview.player.source() == QUrl.fromLocalFile(str(job.output))
        preview.player.setPosition(400)
    else:  # no QtMultimedia here (Linux without libpulse0): the documented fallback
        assert preview.mode == "scrub" and not preview.play_button.isEnabled()
        preview.slider.setValue(400)
    preview.compare_button.setChecked(True)  # Before: the frame without lip-sync
    qtbot.waitUntil(lambda: preview.mode == "pair", timeout=20_000)
    assert preview.showing_before() and preview.view.caption().startswith("Before")
    before = preview.view.image()
    preview.compare_button.setChecked(False)
    assert preview.view.caption().startswith("After")
    assert preview.view.image() != before
    assert (before.width(), before.height()) == (160, 160)


def test_preview_one_frame_with_the_current_settings(
    qtbot, make_window, face_clip, speech, no_dialogs
) -> None:
    window = make_window()
    drop(window, [face_clip, speech("a.wav", 1.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    window.select_job(job.id)
    window.preview.frame_spin.setValue(10)
    window.preview.one_frame_button.click()
    qtbot.waitUntil(lambda: window.preview.mode == "pair", timeout=20_000)
    assert window.preview.view.caption() == "After · frame 10"
    assert window.store.get(job.id).state == "queued"  # nothing was rendered for real
    assert not job.output.exists()


def test_priority_edit_reorders_and_queue_actions(
    qtbot, make_window, pattern_clip, speech, out_dir, monkeypatch, no_dialogs
) -> None:
    from PySide6.QtGui import QDesktopServices

    from app.ui.batch_model import COL_PRIORITY

    window = make_window()
    drop(window, [pattern_clip, speech("a.wav"), speech("b.wav"), speech("c.wav")])
    wait_jobs(qtbot, window, 3)
    a, b, c = (j.id for j in window.model.jobs())
    model = window.model
    assert model.flags(model.index(2, COL_PRIORITY)) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(model.index(2, COL_PRIORITY), 5)  # c first
    assert model.ids() == [c, a, b]
    assert window.store.page()[0].id == c  # the order the scheduler runs them in

    window.select_job(a)
    window.act_cancel.trigger()
    assert window.store.get(a).state == "cancelled"
    window.select_job(b)
    window.act_remove.trigger()
    assert window.store.get(b) is None and model.ids() == [c, a]
    window.act_clear.trigger()  # the cancelled job goes; the queued one stays
    assert model.ids() == [c] and window.store.count() == 1

    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    window.select_job(c)
    window.act_open_folder.trigger()
    assert opened == [QUrl.fromLocalFile(str(out_dir))]


def test_jobs_in_the_store_are_listed_when_the_window_opens(
    qtbot, make_window, pattern_clip, speech, out_dir
) -> None:
    from app.engine.queue.jobstore import JobSpec

    first = make_window()
    specs = [
        JobSpec(
            first.settings.render_settings(pattern_clip, speech(f"{i}.wav"), out_dir / f"{i}.mp4")
        )
        for i in range(3)
    ]
    ids = first.store.add_many(specs)  # as the CLI's `batch --queue-only` would
    first.shutdown()
    window = make_window()
    assert window.model.ids() == ids
    qtbot.waitUntil(lambda: window.model.has_thumbnail(pattern_clip), timeout=10_000)
    assert window.summary_label.text() == "0 of 3 done · 3 queued · queue stopped: press Start"


def test_without_qtmultimedia_a_finished_job_is_scrubbed_frame_by_frame(
    qtbot, make_window, face_clip, speech, monkeypatch, no_dialogs
) -> None:
    """README, Desktop app: without QtMultimedia (libpulse0 missing) the play button is
    disabled and says why; the scrubber, Before/After and one-frame preview still work."""
    monkeypatch.setattr(preview_module, "HAVE_MULTIMEDIA", False)
    window = make_window()
    assert window.preview.player is None
    assert not window.preview.play_button.isEnabled()
    assert "libpulse0" in window.preview.play_button.toolTip()
    drop(window, [face_clip, speech("a.wav", 1.0)])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
    window.select_job(job.id)
    preview = window.preview
    assert preview.mode == "scrub"
    qtbot.waitUntil(lambda: abs(preview.slider.maximum() - 1000) < 50, timeout=10_000)  # 1 s
    qtbot.waitUntil(lambda: preview.view.caption() == "frame 0", timeout=10_000)
    preview.slider.setValue(600)
    qtbot.waitUntil(lambda: preview.view.caption() == "frame 15", timeout=10_000)
    assert not preview.play_button.isEnabled() and preview.slider.isEnabled()
    preview.compare_button.setChecked(True)
    qtbot.waitUntil(lambda: preview.showing_before(), timeout=10_000)
    assert preview.view.caption() == "Before · frame 15"
    preview.frame_spin.setValue(10)  # "Preview one frame" needs no player either
    preview.one_frame_button.click()
    qtbot.waitUntil(lambda: preview.view.caption() == "After · frame 10", timeout=20_000)
