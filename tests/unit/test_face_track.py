"""Shots, adaptive keys and the face choice, on the shared real clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.engine.errors import InputError
from app.engine.render import media, tracking
from app.engine.render.face_choice import FaceChooser, FaceSpec, too_turned
from app.engine.render.face_track import FaceTrack, FaceTrackBuilder
from app.engine.render.faces import FaceDetector, create_detector
from app.engine.render.shots import CutDetector
from app.engine.settings import RenderSettings
from tests.conftest import SHARED_MEDIA, YUNET_PATH

H03 = SHARED_MEDIA / "hard/h03_face_recognition_short_hamilton_clip_multiface_cuts.mp4"
H06 = SHARED_MEDIA / "hard/h06_liveportrait_d11_quick_head_motion.mp4"
H04 = SHARED_MEDIA / "hard/h04_face_recognition_two_people.jpg"
# h03's shots, by eye: the stage (the performer small, on the right; a bystander bottom
# left), the performer in profile with the audience, the performer facing the camera,
# the audience (the performer is not in it).
H03_CUTS = [20, 82, 211]


def frames_of(path: Path, start: int = 0, count: int | None = None) -> list[np.ndarray]:
    with media.open_video(path) as reader:
        out = []
        for frame in reader.frames(start):
            out.append(frame)
            if count is not None and len(out) == count:
                break
    return out


@pytest.fixture(scope="module")
def yunet() -> FaceDetector:
    return create_detector("yunet", YUNET_PATH)


@pytest.fixture(scope="module")
def h03() -> list[np.ndarray]:
    return frames_of(H03)


def build(
    detector: FaceDetector, frames: list[np.ndarray], **kw: object
) -> tuple[FaceTrackBuilder, FaceTrack]:
    builder = FaceTrackBuilder(detector, **kw)  # type: ignore[arg-type]
    for index, frame in enumerate(frames):
        builder.push(index, frame)
    builder.finish()
    return builder, builder.track


def test_the_colour_test_finds_exactly_h03s_cuts(h03):
    cuts = CutDetector()
    assert [i for i, frame in enumerate(h03) if cuts.is_cut(frame)] == H03_CUTS


def test_a_track_never_interpolates_across_a_cut_and_each_shot_starts_detected(yunet, h03):
    builder, track = build(yunet, h03, interval=10)
    shots = [track.entry(i).shot for i in range(len(h03))]  # type: ignore[union-attr]
    assert [i for i in range(1, len(h03)) if shots[i] != shots[i - 1]] == H03_CUTS
    for cut in H03_CUTS:  # the first frame of each shot and the last of the one before
        assert track.entry(cut).detected and track.entry(cut - 1).detected  # type: ignore[union-attr]
    # Every interpolated frame lies between two detected frames of its own shot.
    detected = [i for i in range(len(h03)) if track.entry(i).detected]  # type: ignore[union-attr]
    for i in range(len(h03)):
        if i not in detected:
            before = max(d for d in detected if d < i)
            after = min(d for d in detected if d > i)
            assert shots[before] == shots[i] == shots[after]
    assert builder.key_reasons["start"] == 1 + len(H03_CUTS)


def test_keys_follow_a_moving_head_and_stay_sparse_on_a_still_one(yunet):
    moving = frames_of(H06, 0, 90)  # quick head turns
    truth = [yunet.detect(f)[0] for f in moving]
    errors = {}
    for adaptive in (False, True):
        builder, track = build(yunet, moving, interval=10, adaptive=adaptive)
        mouth_error = [
            np.linalg.norm(track.get(i).landmarks[3:].mean(0) - t.landmarks[3:].mean(0))  # type: ignore[union-attr]
            / np.linalg.norm(t.landmarks[4] - t.landmarks[3])
            for i, t in enumerate(truth)
        ]
        errors[adaptive] = (builder.detections, float(np.mean(mouth_error)))
    # Measured: fixed 10 keys, mean 0.18 mouth widths off; adaptive 25 keys (22 of them
    # for motion), mean 0.08.
    assert errors[True][0] > errors[False][0]  # more keys where the head moves ...
    assert errors[True][1] < 0.6 * errors[False][1]  # ... and the mouth drifts far less
    still = [moving[0]] * 40
    builder, _ = build(yunet, still, interval=10)
    assert builder.detections == 5 and builder.key_reasons["motion"] == 0  # 0, 10, 20, 30, 39


@pytest.mark.parametrize(
    ("text", "mode", "point", "seconds"),
    [
        ("auto", "auto", None, None),
        (" Largest ", "largest", None, None),
        ("320,180@4.5", "point", (320.0, 180.0), 4.5),
        ("12.5, 40 @ 0s", "point", (12.5, 40.0), 0.0),
    ],
)
def test_face_spec_parses(text, mode, point, seconds):
    spec = FaceSpec.parse(text)
    assert (spec.mode, spec.point, spec.seconds) == (mode, point, seconds)
    assert FaceSpec.parse(str(spec)) == spec


@pytest.mark.parametrize("text", ["", "biggest", "320,180", "a,b@1", "1,2@x", "1,2@-3"])
def test_a_bad_face_spec_is_one_line_input_error(text):
    with pytest.raises(InputError, match="--face"):
        FaceSpec.parse(text)


def test_a_profile_is_too_turned_and_a_turned_head_is_not(yunet, h03):
    profile = yunet.detect(h03[30])[0]  # the performer in profile
    assert profile.width > 150 and too_turned(profile)
    h02 = SHARED_MEDIA / "hard/h02_liveportrait_s32_woman_turned_head_1280x720.mp4"
    for frame in frames_of(h02, 0, 180)[::20]:  # turned, but the models serve it
        assert not too_turned(yunet.detect(frame)[0])


def test_left_and_right_pick_the_two_people(yunet):
    import cv2

    image = cv2.imread(str(H04))
    middle = image.shape[1] / 2
    for mode, on_left in (("left", True), ("right", False)):
        chooser = FaceChooser(FaceSpec(mode))
        face = chooser.choose(image, 0, 0, yunet.detect(image))
        assert face is not None and (((face.box[0] + face.box[2]) / 2 < middle) == on_left)


@pytest.mark.parametrize("face", ["auto", "POINT"])
def test_h03_animates_the_performer_and_never_the_audience(yunet, face):
    """auto: the presenter; a point on the performer at 5 s: him. Either way, the profile
    shot and the audience shot get no face."""
    if face == "POINT":
        faces = yunet.detect(frames_of(H03, 150, 1)[0])
        performer = faces[0]
        x, y = (performer.box[:2] + performer.box[2:]) / 2
        face = f"{x:.0f},{y:.0f}@5"
    settings = RenderSettings(H03, H03, H03, face=face, track_cache=False)
    track = tracking.track_until(settings, yunet)
    by_shot: dict[int, list[bool]] = {}
    for i in track.indices():
        entry = track.entry(i)
        assert entry is not None
        by_shot.setdefault(entry.shot, []).append(entry.face is not None)
    assert sorted(by_shot) == [0, 1, 2, 3]
    assert all(by_shot[0]) and not any(by_shot[1]) and not any(by_shot[3])
    assert sum(by_shot[2]) > 0.9 * len(by_shot[2])
    for i in range(0, H03_CUTS[0]):  # the stage: the performer on the right, not the bystander
        assert track.get(i).box[0] > 400  # type: ignore[union-attr]


def test_a_point_with_no_face_under_it_names_the_video(yunet):
    settings = RenderSettings(H03, H03, H03, face="5,5@5", track_cache=False)
    with pytest.raises(InputError, match="h03_.*no face at 5,5 at 5 s"):
        tracking.track_until(settings, yunet)
