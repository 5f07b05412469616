"""Face coordinates of an oversized still are the file's pixels everywhere a user sees or
gives them: `probe --faces` reports the faces of a still the render reads scaled down
(media/stills.py) scaled back to the file, and a `--face X,Y@0` point read off that
report picks that face in the render."""

from __future__ import annotations

import json

import cv2
import numpy as np

from app.cli import main
from app.engine.render import media
from app.engine.render.faces import Face, create_detector
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from tests.support.media import changed_by_render, upscaled_still, write_wav

TWO_PEOPLE = "hard/h04_face_recognition_two_people.jpg"  # 1126x661, two faces side by side


def iou(a, b) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def probe_faces(still, out, *face) -> dict:
    assert main(["probe", "--faces", str(still), "-o", str(out), *face]) == 0
    return json.loads(out.read_text(encoding="utf-8"))["faces"]


def matching(boxes: list[list[float]], face: Face) -> list[float]:
    """The reported box that is `face` (IoU > 0.8 with its full-size YuNet box)."""
    (box,) = [b for b in boxes if iou(b, face.box) > 0.8]
    return box


def test_probe_reports_an_oversized_stills_faces_in_the_files_pixels_and_a_point_from_it_picks_that_face(  # noqa: E501
    shared_media, tmp_path, yunet_path
):
    still = upscaled_still(shared_media / TWO_PEOPLE, tmp_path / "big.jpg", 4600)
    full = cv2.imread(str(still))
    height, width = full.shape[:2]
    tracked = media.still_size(width, height, 4096)
    assert tracked[0] == 4096  # the render reads it scaled down
    truth = create_detector("yunet", yunet_path).detect(full)  # on the full-size file
    assert len(truth) == 2

    report = probe_faces(still, tmp_path / "auto.json")
    assert report["coordinates"] == f"source pixels {width}x{height}"
    assert report["tracked_size"] == f"{tracked[0]}x{tracked[1]}"
    (frame,) = report["frames"]
    boxes = [frame["face"]["box"]] + [o["box"] for o in frame["others"]]
    assert len(boxes) == 2
    for face in truth:  # each face's box where it is in the file (scaled pixels: IoU ~0.7)
        matching(boxes, face)
    landmarks = np.array(frame["face"]["landmarks"])
    x1, y1, x2, y2 = frame["face"]["box"]
    assert (landmarks[:, 0] > x1).all() and (landmarks[:, 0] < x2).all()
    assert (landmarks[:, 1] > y1).all() and (landmarks[:, 1] < y2).all()

    # The face auto did not choose, named by the centre of its reported box.
    other = frame["others"][0]["box"]
    point = f"{(other[0] + other[2]) / 2:.0f},{(other[1] + other[3]) / 2:.0f}@0"
    chosen = probe_faces(still, tmp_path / "point.json", "--face", point)["frames"][0]["face"]
    assert iou(chosen["box"], other) > 0.9

    audio = write_wav(tmp_path / "a.wav", 0.2 * np.sin(np.arange(8_000) / 8).astype("f4"))
    result = render(
        RenderSettings(
            video=still,
            audio=audio,
            output=tmp_path / "out.mp4",
            model="draft",
            detector="yunet",
            detector_model=yunet_path,
            face=point,
            crf=0,
            preset="ultrafast",
            track_cache=False,
        )
    )
    assert (result.width, result.height) == tracked
    assert result.frames_with_face == result.frames >= 12
    changed = changed_by_render(still, result.output, 4096)
    sx, sy = tracked[0] / width, tracked[1] / height

    def in_render(box: list[float]) -> np.ndarray:
        bx1, by1, bx2, by2 = box
        return changed[int(by1 * sy) : int(by2 * sy), int(bx1 * sx) : int(bx2 * sx)]

    assert in_render(other).sum() > 100  # the face the point names speaks
    assert not in_render(frame["face"]["box"]).any()  # auto's choice is left alone
