"""Issue 13: the render queue never shows the wrong thing. Each test drives the window the
way a person does: mouse clicks on the table's rows, drops, menu actions, shortcuts, the
dialogs that pop up answered by clicking their buttons."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from app.engine.queue.jobstore import JobSpec
from app.ui import job_files
from app.ui.batch_model import COL_MODEL, COL_PROGRESS, COL_STATE
from app.ui.job_edit_dialog import JobEditDialog
from app.ui.settings_dialog import SettingsDialog
from tests.support.mediagen import make_audio
from tests.support.person import (
    answer_next_dialog,
    click_row,
    drag_leave,
    drag_over,
    drop,
    finished_job,
    mime_of,
    show_active,
    wait_jobs,
)


def state_text(window, job_id: int) -> str:
    return window.model.data(window.model.index(window.model.row_of(job_id), COL_STATE))


# -- 1. clicking a job shows that job ------------------------------------------------------


def test_clicking_a_row_previews_that_job_not_the_previous_one(
    qtbot, make_window, pattern_clip, speech, out_dir, no_dialogs
) -> None:
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    first = finished_job(window, pattern_clip, speech("a.wav"), out_dir / "first_take.mp4")
    second = finished_job(window, pattern_clip, speech("b.wav"), out_dir / "second_take.mp4")
    assert window.model.ids() == [first, second]
    for row, name in ((1, "second_take.mp4"), (0, "first_take.mp4"), (1, "second_take.mp4")):
        click_row(qtbot, window, row)
        assert window.current_job().output.name == name
        assert window.preview.title.text() == name
    qtbot.keyClick(window.table, Qt.Key.Key_Up)  # and the keyboard still agrees
    assert window.preview.title.text() == "first_take.mp4"


# -- 2. no face: done with a warning, in the row and the preview ----------------------------


def test_a_render_without_a_face_is_done_with_a_warning_not_a_green_done(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    window.show()
    drop(window, [pattern_clip, speech("hello.wav")])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
    assert state_text(window, job.id) == "Done, check it · no face found"
    colour = window.model.data(
        window.model.index(0, COL_STATE), Qt.ItemDataRole.ForegroundRole
    ).color()
    assert (colour.red(), colour.green()) == (200, 120)  # amber, not the done green
    click_row(qtbot, window, 0)
    assert window.notice.isVisible()
    assert "no face found" in window.notice.text.text()


# -- 3. a failure says why and is fixed in place ---------------------------------------------


def test_a_missing_model_failure_shows_why_and_is_fixed_from_the_gui(
    qtbot, make_window, pattern_clip, speech, monkeypatch, no_dialogs
) -> None:
    window = make_window(model="wav2lip_96")  # not installed in the test's home
    window.show()
    drop(window, [pattern_clip, speech("hello.wav")])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "failed"
    ):
        window.act_start.trigger()
    text = state_text(window, job.id)
    assert text.startswith("Failed: ") and "wav2lip_96" in text  # the reason, in the row
    click_row(qtbot, window, 0)
    qtbot.waitUntil(lambda: window.notice.models_button.isVisible(), timeout=10_000)
    assert "wav2lip_96 is not installed" in window.notice.text.text()

    qtbot.mouseClick(window.notice.models_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.models_dialog is not None and window.models_dialog.loaded)
    qtbot.waitUntil(lambda: window.models_dialog.selected_name() == "wav2lip_96")
    window.models_dialog.close()

    def pick_draft(dialog) -> None:
        assert isinstance(dialog, JobEditDialog)
        dialog.model.setCurrentIndex(dialog.model.findData("draft"))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()

    answered = answer_next_dialog(qtbot, pick_draft)
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=10_000, check_params_cb=lambda i, s: s == "queued"
    ):
        qtbot.mouseClick(window.notice.change_button, Qt.MouseButton.LeftButton)
    assert answered
    assert "press Start" in window.statusBar().currentMessage()  # the batch had run dry
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
    fixed = window.store.get(job.id)
    assert fixed.model == "draft" and fixed.output.is_file()
    assert window.model.data(window.model.index(0, COL_MODEL)).startswith("draft")


def test_settings_say_when_the_default_model_is_not_installed(qtbot, make_window) -> None:
    window = make_window()
    dialog = SettingsDialog(window.settings, window, devices=[("cpu", "CPU")])
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.model_warning.isVisible()
    assert "not installed" in dialog.model.itemText(dialog.model.findData("wav2lip_96"))
    dialog.model.setCurrentIndex(dialog.model.findData("wav2lip_96"))
    assert dialog.model_warning.isVisible() and dialog.model_models.isVisible()
    assert "wav2lip_96 is not installed" in dialog.model_warning.text()
    with qtbot.waitSignal(dialog.open_models, check_params_cb=lambda n: n == "wav2lip_96"):
        qtbot.mouseClick(dialog.model_models, Qt.MouseButton.LeftButton)


# -- 4. half-added pairs stay in sight --------------------------------------------------------


def test_a_video_alone_waits_in_sight_until_paired_or_removed(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    window.show()
    drop(window, [pattern_clip])
    qtbot.waitUntil(lambda: window.pending_bar.isVisible(), timeout=10_000)
    assert "pattern.mp4" in window.pending_bar.label.text()
    assert window.model.rowCount() == 0
    qtbot.mouseClick(window.pending_bar.remove_button, Qt.MouseButton.LeftButton)
    assert not window.pending_bar.isVisible() and window.intake.pending_videos == []

    drop(window, [pattern_clip])
    qtbot.waitUntil(lambda: window.pending_bar.isVisible(), timeout=10_000)
    drop(window, [speech("hello.wav")])
    wait_jobs(qtbot, window, 1)
    assert not window.pending_bar.isVisible()


def test_audio_added_with_a_job_selected_asks_before_pairing(
    qtbot, make_window, pattern_clip, speech, monkeypatch, no_dialogs
) -> None:
    window = make_window()
    window.show()
    drop(window, [pattern_clip, speech("first.wav")])
    wait_jobs(qtbot, window, 1)
    click_row(qtbot, window, 0)
    second = speech("second.wav")
    monkeypatch.setattr(
        "PySide6.QtWidgets.QFileDialog.getOpenFileNames", lambda *a, **k: ([str(second)], "")
    )
    window.act_add_audio.trigger()
    wait_jobs(qtbot, window, 2)
    questions = [d for d in no_dialogs if d[0] == "question"]
    assert len(questions) == 1 and "second.wav" in questions[0][2]
    assert "pattern.mp4" in questions[0][2]


# -- 5. names that do not match do not lose the drop ------------------------------------------


def test_unmatched_names_default_to_every_combination(
    qtbot, make_window, pattern_clip, tmp_path
) -> None:
    window = make_window()
    window.show()
    videos = [Path(shutil.copy(pattern_clip, tmp_path / f"{n}.mp4")) for n in ("anna", "ben")]
    audios = [make_audio(tmp_path / f"{n}.wav", 1.0) for n in ("intro", "outro")]
    shown: list[str] = []

    def enter(box) -> None:
        shown.append(box.defaultButton().text())
        qtbot.keyClick(box, Qt.Key.Key_Return)  # what a hurried person does

    answer_next_dialog(qtbot, enter)
    drop(window, [*videos, *audios])
    wait_jobs(qtbot, window, 4)
    assert shown == ["Every combination (4 jobs)"]
    assert not window.pending_bar.isVisible()


# -- 6. the status line agrees with the list ---------------------------------------------------


def test_status_counts_match_the_list_after_a_restart(
    qtbot, make_window, pattern_clip, speech, out_dir, no_dialogs
) -> None:
    first = make_window()
    done = [
        finished_job(first, pattern_clip, speech(f"{i}.wav"), out_dir / f"out{i}.mp4")
        for i in range(2)
    ]
    failed = first.store.add_many(
        [JobSpec(first.settings.render_settings(pattern_clip, speech("f.wav"), out_dir / "f.mp4"))]
    )
    first.store.claim_next("cpu")
    first.store.fail(failed[0], "boom")
    first.shutdown()
    window = make_window()
    assert window.model.rowCount() == 3 and len(done) == 2
    assert window.summary_label.text() == "2 of 3 done · 1 failed"
    assert not window.overall.isVisible()  # nothing to do: no "100 %" beside a failure
    assert window.windowTitle() == "Lipsync Studio"  # no "0 %", the name once


# -- 7. starting is explicit -------------------------------------------------------------------


def test_jobs_added_after_a_batch_wait_for_start_unless_auto_start_is_on(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    window.show()
    drop(window, [pattern_clip, speech("one.wav")])
    wait_jobs(qtbot, window, 1)
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
    qtbot.waitUntil(lambda: not window.queue.running)  # the batch ran dry: stopped
    assert not window.act_pause.isEnabled()
    assert not window.act_start.isEnabled()  # nothing to start: a Start now would run later adds
    drop(window, [pattern_clip, speech("two.wav")])
    wait_jobs(qtbot, window, 2)
    assert window.act_start.isEnabled()
    second = window.model.jobs()[1]
    qtbot.wait(1200)  # longer than the scheduler's poll: it would have started by now
    assert window.store.get(second.id).state == "queued"
    assert window.summary_label.text().endswith("queue stopped: press Start")

    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_auto_start.trigger()  # Queue → Start new jobs automatically
    assert window.act_auto_start.isChecked()
    drop(window, [pattern_clip, speech("three.wav")])
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        wait_jobs(qtbot, window, 3)


def test_hold_says_the_running_job_finishes(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window()
    window.show()
    drop(window, [pattern_clip, speech("long.wav", 20.0)])
    wait_jobs(qtbot, window, 1)
    with qtbot.waitSignal(window.bridge.progress, timeout=30_000):
        window.act_start.trigger()
    assert window.act_pause.text() == "Hold"
    qtbot.keySequence(window, QKeySequence("Ctrl+P"))
    assert not window.queue.running
    assert "rendering now finish" in window.statusBar().currentMessage()


# -- 9. layout: the table keeps State and Progress in sight -----------------------------------


def test_long_names_are_elided_and_state_and_progress_stay_visible_at_1024(
    qtbot, make_window, pattern_clip, tmp_path, out_dir, no_dialogs
) -> None:
    window = make_window()
    long_video = Path(
        shutil.copy(pattern_clip, tmp_path / ("presenter_" + "very_long_take_name_" * 6 + ".mp4"))
    )
    audio = make_audio(tmp_path / ("speech_" + "quarterly_results_" * 6 + ".wav"), 1.0)
    job_id = finished_job(window, long_video, audio, out_dir / ("render_" + "x" * 120 + ".mp4"))
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    sizes = window.splitter.sizes()
    click_row(qtbot, window, 0)
    assert window.splitter.sizes() == sizes  # the long title did not push the splitter
    viewport = window.table.viewport().rect()
    for column in (COL_STATE, COL_PROGRESS):
        rect = window.table.visualRect(window.model.index(0, column))
        assert viewport.contains(rect), f"column {column} is clipped at 1024x700"
    assert window.preview.title.elided_text().endswith(".mp4")
    assert "…" in window.preview.title.elided_text()
    assert window.model.row_of(job_id) == 0


# -- 10. a job's files -------------------------------------------------------------------------


def test_open_reveal_and_copy_a_jobs_output_and_say_when_nothing_opens(
    qtbot, make_window, pattern_clip, speech, out_dir, monkeypatch, no_dialogs
) -> None:
    window = make_window()
    window.show()
    finished_job(window, pattern_clip, speech("a.wav"), out_dir / "take.mp4")
    opened: list[QUrl] = []
    monkeypatch.setattr(job_files, "_system_opener", lambda url: opened.append(url) or True)
    click_row(qtbot, window, 0)
    window.act_open_file.trigger()
    window.act_reveal.trigger()
    assert opened == [
        QUrl.fromLocalFile(str(out_dir / "take.mp4")),
        QUrl.fromLocalFile(str(out_dir)),
    ]
    window.act_copy_path.trigger()
    assert QApplication.clipboard().text() == str(out_dir / "take.mp4")

    QApplication.clipboard().clear()
    monkeypatch.setattr(job_files, "_system_opener", lambda url: False)  # no xdg-open here
    window.act_open_folder.trigger()
    kind, _title, text = no_dialogs[-1]
    assert kind == "information" and str(out_dir) in text
    assert QApplication.clipboard().text() == str(out_dir)


# -- 11. shortcuts and help --------------------------------------------------------------------


def test_shortcuts_and_the_about_box(qtbot, make_window, pattern_clip, speech, out_dir) -> None:
    window = make_window()
    show_active(qtbot, window)
    keys = {
        action.shortcut().toString()
        for action in (
            window.act_pause,
            window.act_cancel,
            window.act_retry,
            window.act_add_folder,
            window.act_models,
            window.act_log,
        )
    }
    assert "" not in keys and len(keys) == 6
    qtbot.keySequence(window, QKeySequence("Ctrl+L"))
    assert window.log_dock.isVisible()
    qtbot.keySequence(window, QKeySequence("Ctrl+M"))
    qtbot.waitUntil(lambda: window.models_dialog is not None and window.models_dialog.isVisible())
    window.models_dialog.close()

    finished_job(window, pattern_clip, speech("a.wav"), out_dir / "take.mp4")
    click_row(qtbot, window, 0)
    assert window.preview.play_button.isEnabled()
    with qtbot.waitSignal(window.play_shortcut.activated, timeout=2000):
        qtbot.keyClick(window.table, Qt.Key.Key_Space)  # Space plays/pauses the preview

    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.about_dialog is not None and window.about_dialog.isVisible())
    text = window.about_dialog.text.toPlainText()
    assert "Lipsync Studio 0." in text and "draft" in text and "ONNX Runtime" in text


# -- 12. habits ---------------------------------------------------------------------------------


def test_drag_highlight_empty_state_and_confirmations(
    qtbot, make_window, pattern_clip, speech, out_dir, no_dialogs
) -> None:
    window = make_window()
    show_active(qtbot, window)
    assert "Drop presenter videos and speech here" in window.table.empty_text()
    mime = mime_of([pattern_clip])
    assert drag_over(window, mime).isAccepted()
    assert window.drop_highlight.isVisible()
    drag_leave(window)
    assert not window.drop_highlight.isVisible()

    for i in range(3):
        finished_job(window, pattern_clip, speech(f"{i}.wav"), out_dir / f"o{i}.mp4")
    click_row(qtbot, window, 0)
    click_row(qtbot, window, 2, Qt.KeyboardModifier.ShiftModifier)
    assert len(window.selected_jobs()) == 3
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert no_dialogs[-1][0] == "question" and "3 jobs" in no_dialogs[-1][2]
    assert window.model.rowCount() == 0


def test_log_panel_state_is_restored_and_the_model_list_has_draft(
    qtbot, make_window, no_dialogs
) -> None:
    window = make_window()
    window.show()
    window.act_log.trigger()
    assert window.log_dock.isVisible()
    window.shutdown()
    again = make_window(save_settings=False)
    again.show()
    assert again.log_dock.isVisible()
    dialog = again.open_models()
    qtbot.waitUntil(lambda: dialog.loaded)
    draft = dialog.row("draft")
    assert draft is not None and draft.status == "installed" and not draft.downloadable


def test_the_model_column_shows_the_model_auto_picked_also_after_a_restart(
    qtbot, make_window, pattern_clip, speech, no_dialogs
) -> None:
    window = make_window(model="auto")  # only draft is installed in the test's home
    window.show()
    drop(window, [pattern_clip, speech("hello.wav")])
    wait_jobs(qtbot, window, 1)
    (job,) = window.model.jobs()
    assert window.model.data(window.model.index(0, COL_MODEL)).startswith("auto ·")  # not yet
    with qtbot.waitSignal(
        window.bridge.job_event, timeout=60_000, check_params_cb=lambda i, s: s == "done"
    ):
        window.act_start.trigger()
    assert window.model.data(window.model.index(0, COL_MODEL)).startswith("auto → draft ·")
    window.shutdown()
    again = make_window(save_settings=False)  # the store, not this session's memory, knows
    row = again.model.row_of(job.id)
    assert again.model.data(again.model.index(row, COL_MODEL)).startswith("auto → draft ·")


def test_the_log_panel_reads_as_words_and_failures_are_errors(
    qtbot, jsonlog, make_window, pattern_clip, speech, out_dir, no_dialogs
) -> None:
    window = make_window()
    show_active(qtbot, window)
    drop(window, [pattern_clip, speech("ok.wav")])
    wait_jobs(qtbot, window, 1)
    (good,) = window.model.jobs()
    bad = window.store.add_many(
        [JobSpec(window.settings.render_settings(pattern_clip, speech("x.wav"), out_dir / "x.mp4"))]
    )[0]
    window.store.set_model(bad, "wav2lip_96", "cpu")  # not installed: fails for good
    window.model.refresh_job(bad)
    done: set[int] = set()
    window.bridge.job_event.connect(lambda i, s: done.add(i) if s in ("done", "failed") else None)
    window.act_start.trigger()
    qtbot.waitUntil(lambda: done == {good.id, bad}, timeout=60_000)
    qtbot.keySequence(window, QKeySequence("Ctrl+L"))
    qtbot.waitUntil(
        lambda: any("failed after" in line for line in window.log_panel.lines()), timeout=10_000
    )
    lines = window.log_panel.lines()
    assert not [line for line in lines if "PosixPath(" in line or "StageClock(" in line]
    failed = next(line for line in lines if "failed after" in line)
    assert " ERROR " in failed and "wav2lip_96" in failed
    finished = next(line for line in lines if "done in" in line)
    assert "frames" in finished and "face in" in finished
