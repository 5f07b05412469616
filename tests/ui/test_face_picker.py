"""Choosing the speaking face in the GUI: click a face in the job's frame; the job then
renders that face and leaves the other one alone."""

from __future__ import annotations

import cv2
from PySide6.QtCore import Qt

from app.engine.queue.jobstore import JobSpec
from app.engine.render.face_choice import FaceSpec
from app.engine.render.faces import create_detector
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from app.ui.batch_model import COL_VIDEO
from tests.support.media import changed_by_render, upscaled_still
from tests.support.mediagen import make_audio
from tests.support.paths import SHARED_MEDIA, YUNET_PATH

TWO_PEOPLE = SHARED_MEDIA / "hard/h04_face_recognition_two_people.jpg"


def open_picker(qtbot, make_window, store, settings: RenderSettings):
    """A window with `settings` as its one job, the job selected with a click and its face
    picker open (as a person does it): (the job's id, the dialog)."""
    job_id = store.add(JobSpec(settings))
    window = make_window()
    window.show()
    qtbot.waitExposed(window)
    table = window.table
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    rect = table.visualRect(window.model.index(0, COL_VIDEO))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.act_choose_face.isEnabled()
    window.act_choose_face.trigger()  # Queue → Choose face… (as the menu does)
    qtbot.waitUntil(lambda: getattr(window, "face_picker", None) is not None, timeout=20_000)
    dialog = window.face_picker
    qtbot.waitExposed(dialog)
    return job_id, dialog


def pick(qtbot, dialog, index: int, store, job_id: int) -> tuple[float, float]:
    """Click face `index` in the picker, then OK: the point stored with the job."""
    view = dialog.view
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.face_rect(index).center().toPoint())
    assert view.chosen == index and dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    job = store.get(job_id)
    assert job is not None
    spec = FaceSpec.parse(job.settings["face"])
    assert spec.mode == "point" and spec.point is not None
    return spec.point


def test_clicking_a_face_sets_the_jobs_face_and_only_that_face_is_rendered(
    qtbot, make_window, store, tmp_path
):
    audio = make_audio(tmp_path / "speech.wav", 1.0, kind="speechlike")
    job_id, dialog = open_picker(
        qtbot,
        make_window,
        store,
        RenderSettings(
            TWO_PEOPLE,
            audio,
            tmp_path / "out.mp4",
            model="draft",
            device="cpu",
            detector="yunet",
            detector_model=YUNET_PATH,
            crf=0,
            preset="ultrafast",
        ),
    )
    view = dialog.view
    assert len(view.faces) == 2 and not dialog.ok.isEnabled()
    # The person on the right (the image's right half).
    right = max(range(2), key=lambda i: float(view.faces[i].box[0]))
    left = 1 - right
    x, y = pick(qtbot, dialog, right, store, job_id)
    x1, y1, x2, y2 = view.faces[right].box
    assert x1 <= x <= x2 and y1 <= y <= y2

    job = store.get(job_id)
    assert job is not None
    result = render(job.to_settings())  # what the queue runs for this job
    assert result.frames_with_face == result.frames == 25
    changed = changed_by_render(TWO_PEOPLE, job.output)
    lx1, ly1, lx2, ly2 = (int(v) for v in view.faces[left].box)
    rx1, ry1, rx2, ry2 = (int(v) for v in view.faces[right].box)
    assert not changed[max(ly1, 0) : ly2, max(lx1, 0) : lx2].any()  # the other one: untouched
    assert changed[max(ry1, 0) : ry2, max(rx1, 0) : rx2].sum() > 100  # the chosen one speaks


def test_a_click_on_an_oversized_stills_face_stores_a_point_of_the_file(
    qtbot, make_window, store, tmp_path
):
    """A 4600 px still (the render reads it at 4096): the picker shows it scaled to fit,
    its boxes on the faces, and a click stores a point in the file's pixels, inside the
    face YuNet finds on the full-size file."""
    still = upscaled_still(TWO_PEOPLE, tmp_path / "two_people_big.jpg", 4600)
    full = cv2.imread(str(still))
    height, width = full.shape[:2]
    truth = create_detector("yunet", YUNET_PATH).detect(full)
    assert len(truth) == 2
    truth_right = max(truth, key=lambda f: float(f.box[0]))
    audio = make_audio(tmp_path / "speech.wav", 0.2, kind="speechlike")
    job_id, dialog = open_picker(
        qtbot,
        make_window,
        store,
        RenderSettings(
            still, audio, tmp_path / "out.mp4", detector="yunet", detector_model=YUNET_PATH
        ),
    )
    view = dialog.view
    assert view.source_size == (width, height)
    assert max(view.image.width(), view.image.height()) == 4096  # as the render reads it
    assert len(view.faces) == 2
    right = max(range(2), key=lambda i: float(view.faces[i].box[0]))
    # The drawn box lies on the face: the full-size face mapped onto the widget.
    drawn = view.face_rect(right)
    target = view._image_rect()
    scale = target.width() / width
    tx1, ty1, tx2, ty2 = (float(v) for v in truth_right.box)
    assert abs(drawn.left() - (target.x() + tx1 * scale)) < 0.05 * drawn.width()
    assert abs(drawn.right() - (target.x() + tx2 * scale)) < 0.05 * drawn.width()
    assert abs(drawn.top() - (target.y() + ty1 * scale)) < 0.05 * drawn.height()
    x, y = pick(qtbot, dialog, right, store, job_id)
    assert tx1 <= x <= tx2 and ty1 <= y <= ty2  # the file's pixels, on that face
