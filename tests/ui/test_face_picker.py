"""Choosing the speaking face in the GUI: click a face in the job's frame; the job then
renders that face and leaves the other one alone."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from app.engine.queue.jobstore import JobSpec
from app.engine.render import media
from app.engine.render.face_choice import FaceSpec
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from app.ui.batch_model import COL_VIDEO
from tests.conftest import SHARED_MEDIA, YUNET_PATH
from tests.mediagen import make_audio

TWO_PEOPLE = SHARED_MEDIA / "hard/h04_face_recognition_two_people.jpg"


def test_clicking_a_face_sets_the_jobs_face_and_only_that_face_is_rendered(
    qtbot, make_window, store, tmp_path
):
    audio = make_audio(tmp_path / "speech.wav", 1.0, kind="speechlike")
    job_id = store.add(
        JobSpec(
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
            )
        )
    )
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
    view = dialog.view
    assert len(view.faces) == 2 and not dialog.ok.isEnabled()
    # The person on the right (the image's right half).
    right = max(range(2), key=lambda i: float(view.faces[i].box[0]))
    left = 1 - right
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.face_rect(right).center().toPoint())
    assert view.chosen == right and dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    job = store.get(job_id)
    assert job is not None
    spec = FaceSpec.parse(job.settings["face"])
    assert spec.mode == "point" and spec.point is not None
    x1, y1, x2, y2 = view.faces[right].box
    assert x1 <= spec.point[0] <= x2 and y1 <= spec.point[1] <= y2

    result = render(job.to_settings())  # what the queue runs for this job
    assert result.frames_with_face == result.frames == 25
    with media.open_video(TWO_PEOPLE) as reader:  # decoded as the render decodes it
        (image,) = list(reader.frames())
    h, w = image.shape[:2]
    stored = tmp_path / "still.mp4"
    with media.VideoWriter(stored, w, h, 25.0, crf=0, preset="ultrafast") as writer:
        writer.write(image)
    with media.open_video(stored) as reader:
        (untouched,) = list(reader.frames())
    with media.open_video(job.output) as reader:
        frames = list(reader.frames())
    changed = np.zeros(untouched.shape[:2], bool)
    for frame in frames:
        changed |= np.abs(frame.astype(np.int16) - untouched.astype(np.int16)).max(axis=2) > 0
    lx1, ly1, lx2, ly2 = (int(v) for v in view.faces[left].box)
    rx1, ry1, rx2, ry2 = (int(v) for v in view.faces[right].box)
    assert not changed[max(ly1, 0) : ly2, max(lx1, 0) : lx2].any()  # the other one: untouched
    assert changed[max(ry1, 0) : ry2, max(rx1, 0) : rx2].sum() > 100  # the chosen one speaks
