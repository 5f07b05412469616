"""Face detection (YuNet and the Haar fallback) and face tracks, on the shared real media."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from app.engine.errors import InputError
from app.engine.render.crop import estimate_alignment, template_points
from app.engine.render.face_track import FaceTrack, FaceTrackBuilder
from app.engine.render.faces import Face, FaceDetector, create_detector
from tests.support.paths import SHARED_MEDIA, YUNET_PATH

PORTRAITS = [
    "image/i01_face_recognition_obama_720p.jpg",
    "image/i02_sadtalker_happy_256.png",
    "image/i03_sadtalker_people_0_474.png",
]
CLIP = "video/v07_liveportrait_d14_woman_talking.mp4"  # 512x512, talking, head motion


def _read_image(name: str) -> np.ndarray:
    path = SHARED_MEDIA / name
    image = cv2.imread(str(path))
    if image is None:
        pytest.fail(f"shared media missing: {path}")
    return image


def _read_frames(name: str, count: int) -> list[np.ndarray]:
    path = SHARED_MEDIA / name
    if not path.is_file():
        pytest.fail(f"shared media missing: {path}")
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="bgr24"))
            if len(frames) == count:
                break
    return frames


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


class MemoDetector:
    """The real detector, each frame's result kept so repeated builds over the same frames
    don't pay for detection again (the builders count their own calls)."""

    def __init__(self, inner: FaceDetector) -> None:
        self.inner, self.name = inner, inner.name
        self._memo: dict[int, tuple[np.ndarray, list[Face]]] = {}

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        hit = self._memo.get(id(frame_bgr))
        if hit is None or hit[0] is not frame_bgr:
            hit = (frame_bgr, self.inner.detect(frame_bgr))
            self._memo[id(frame_bgr)] = hit
        return hit[1]


@pytest.fixture(scope="module")
def yunet() -> FaceDetector:
    if not YUNET_PATH.is_file():
        pytest.fail(f"YuNet model missing at {YUNET_PATH}")
    return create_detector("yunet", YUNET_PATH)


@pytest.fixture(scope="module")
def haar() -> FaceDetector:
    return create_detector("haar")


@pytest.fixture(scope="module")
def clip() -> list[np.ndarray]:
    return _read_frames(CLIP, 60)


@pytest.fixture(scope="module")
def memo(yunet: FaceDetector) -> MemoDetector:
    return MemoDetector(yunet)


def _build(
    detector: FaceDetector,
    frames: list[np.ndarray],
    interval: int = 5,
    track: FaceTrack | None = None,
    adaptive: bool = False,
) -> tuple[FaceTrackBuilder, list, int]:
    """Run a builder over frames 0..n-1; returns it, what it settled, and the most frames
    it held back at once. Fixed keys unless `adaptive` (test_face_track.py tests those)."""
    builder = FaceTrackBuilder(detector, interval=interval, track=track, adaptive=adaptive)
    out: list = []
    held = 0
    for index, frame in enumerate(frames):
        out += builder.push(index, frame)
        held = max(held, index + 1 - len(out))
    out += builder.finish()
    assert [i for i, _, _ in out] == list(range(len(frames)))
    assert all(f is frames[i] for i, f, _ in out)
    return builder, out, held


def _landmarks(faces: list[Face | None]) -> np.ndarray:
    assert all(f is not None for f in faces)
    return np.stack([f.landmarks for f in faces if f is not None])


def _jitter(landmarks: np.ndarray) -> float:
    """Mean frame-to-frame landmark motion, pixels."""
    return float(np.linalg.norm(np.diff(landmarks, axis=0), axis=2).mean())


def _check_order_and_crop(face: Face, shape: tuple[int, ...]) -> None:
    right_eye, left_eye, nose, mouth_r, mouth_l = face.landmarks
    assert right_eye[0] < left_eye[0] and mouth_r[0] < mouth_l[0]  # subject's right = image left
    eyes_y, mouth_y = (right_eye[1] + left_eye[1]) / 2, (mouth_r[1] + mouth_l[1]) / 2
    assert eyes_y < nose[1] < mouth_y
    x1, y1, x2, y2 = face.box
    assert 0 <= x1 < x2 <= shape[1] and 0 <= y1 < y2 <= shape[0]
    assert np.all((face.landmarks >= face.box[:2]) & (face.landmarks <= face.box[2:]))
    # The landmarks give a sane aligned crop: each lands near its template point.
    for template, size in (("wav2lip", 96), ("ffhq", 256)):
        matrix = estimate_alignment(face.landmarks, template, size)
        mapped = cv2.transform(face.landmarks[None], matrix)[0]
        assert np.abs(mapped - template_points(template, size)).max() < 0.1 * size


@pytest.mark.parametrize("name", PORTRAITS)
def test_yunet_finds_the_portrait_face(yunet, name):
    image = _read_image(name)
    faces = yunet.detect(image)
    assert len(faces) == 1
    assert faces[0].score > 0.6
    assert faces[0].width > 0.1 * image.shape[1]
    _check_order_and_crop(faces[0], image.shape)


def test_yunet_finds_the_face_in_a_video_frame(yunet, clip):
    faces = yunet.detect(clip[0])
    assert len(faces) == 1
    _check_order_and_crop(faces[0], clip[0].shape)


def test_yunet_downscales_large_frames_and_maps_back(yunet):
    """A 4K copy of the 720p portrait gives the same face, scaled 3x."""
    image = _read_image(PORTRAITS[0])
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    small_face, big_face = yunet.detect(image)[0], yunet.detect(big)[0]
    assert _iou(small_face.box * 3, big_face.box) > 0.9
    assert np.abs(small_face.landmarks * 3 - big_face.landmarks).max() < 0.05 * big_face.width


@pytest.mark.parametrize("name", [*PORTRAITS, "video"])
def test_haar_fallback_agrees_with_yunet(yunet, haar, clip, name):
    image = clip[30] if name == "video" else _read_image(name)
    reference, faces = yunet.detect(image)[0], haar.detect(image)
    assert len(faces) == 1
    face = faces[0]
    assert _iou(face.box, reference.box) > 0.5
    error = np.linalg.norm(face.landmarks - reference.landmarks, axis=1) / reference.width
    assert error[3:].max() < 0.15  # mouth corners: what the lip-sync crop hinges on
    assert error.max() < 0.2
    _check_order_and_crop(face, image.shape)


def test_auto_never_falls_back_to_haar(tmp_path):
    """Haar only when asked for: a missing or damaged YuNet says what to do."""
    with pytest.raises(InputError, match="--detector haar"):
        create_detector("auto", None)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an onnx file" * 40)
    for kind in ("auto", "yunet"):
        with pytest.raises(InputError, match="broken.onnx"):
            create_detector(kind, broken)
    assert create_detector("haar", broken).name == "haar"


def test_yunet_without_a_usable_file_raises_input_error(tmp_path):
    missing = tmp_path / "nowhere" / "yunet.onnx"
    with pytest.raises(InputError, match=str(missing).replace("\\", "\\\\")):
        create_detector("yunet", missing)
    with pytest.raises(InputError):
        create_detector("yunet", None)


def test_detector_kinds():
    assert create_detector("auto", YUNET_PATH).name == "yunet"
    assert create_detector("haar", YUNET_PATH).name == "haar"
    with pytest.raises(InputError, match="mtcnn"):
        create_detector("mtcnn")


def test_several_faces_come_largest_first(yunet):
    two = _read_image("hard/h04_face_recognition_two_people.jpg")
    faces = yunet.detect(two)
    assert len(faces) == 2
    assert faces[0].area > faces[1].area
    assert faces[0].box[0] > two.shape[1] / 2  # the right-hand person is the nearer one

    group = _read_image("hard/h05_insightface_t1_group_photo.jpg")
    faces = yunet.detect(group)
    assert len(faces) >= 5
    areas = [f.area for f in faces]
    assert areas == sorted(areas, reverse=True)


def test_tracking_detects_every_interval_and_follows_per_frame_detection(memo, clip):
    reference = [memo.detect(frame)[0] for frame in clip]
    builder, out, held = _build(memo, clip, interval=5)
    # Frames 0, 5, ..., 55 and the last one, 59; no disagreement in this clip.
    assert builder.detections == 13
    assert held <= 2 * 5 + 1
    assert len(builder.track) == 60 and all(i in builder.track for i in range(60))

    tracked, raw = _landmarks([f for _, _, f in out]), _landmarks(reference)
    width = np.median([f.width for f in reference])
    error = np.linalg.norm(tracked - raw, axis=2).mean()
    assert error < 0.03 * width  # measured ~1% of the face width
    assert _jitter(tracked) <= _jitter(raw)


def test_smoothing_every_frame_reduces_jitter(memo, clip):
    reference = _landmarks([memo.detect(frame)[0] for frame in clip])
    builder, out, held = _build(memo, clip, interval=1)
    assert builder.detections == 60 and held <= 3
    smoothed = _landmarks([f for _, _, f in out])
    assert _jitter(smoothed) < _jitter(reference)
    width = np.median([f.width for _, _, f in out if f is not None])
    assert np.linalg.norm(smoothed - reference, axis=2).mean() < 0.01 * width


def test_a_frame_without_a_face_gets_none_and_its_neighbours_keep_theirs(memo, clip):
    frames = list(clip[:30])
    frames[10] = np.zeros_like(frames[10])  # a blank frame where a key detection falls
    builder, out, _ = _build(memo, frames, interval=5)
    faces = [f for _, _, f in out]
    assert faces[10] is None
    assert all(f is not None for i, f in enumerate(faces) if i != 10)
    # The blank frame is a shot of its own (cuts before and after it): keys 0, 5 and 9
    # (the first shot's last frame), 10, then 11, 16, 21, 26 and the last, 29.
    assert builder.detections == 9
    assert [builder.track.entry(i).shot for i in (9, 10, 11)] == [0, 1, 2]  # type: ignore[union-attr]
    for i in (9, 11):
        truth = memo.detect(frames[i])[0]
        assert _iou(faces[i].box, truth.box) > 0.8


def test_a_bystander_does_not_steal_the_track(memo):
    """Two people: the left one alone first, then the nearer right one appears."""
    image = _read_image("hard/h04_face_recognition_two_people.jpg")
    alone = image.copy()
    alone[:, image.shape[1] // 2 :] = 127
    frames = [alone] * 8 + [image] * 12
    assert memo.detect(image)[0].box[0] > image.shape[1] / 2  # largest = the newcomer
    builder, out, _ = _build(memo, frames, interval=5)
    centres = [(f.box[0] + f.box[2]) / 2 for _, _, f in out if f is not None]
    assert len(centres) == 20
    assert max(centres) < image.shape[1] / 2  # still the left person


def test_face_track_round_trips_through_npz(memo, clip, tmp_path):
    frames = list(clip[:12])
    frames[5] = np.zeros_like(frames[5])
    builder, _, _ = _build(memo, frames, interval=5)
    track = builder.track
    assert track.get(5) is None and 5 in track and 99 not in track

    path = tmp_path / "track.npz"
    np.savez(path, **track.to_arrays())
    with np.load(path, allow_pickle=False) as arrays:
        loaded = FaceTrack.from_arrays(arrays)
    assert loaded.detector_name == "yunet" and len(loaded) == len(track) == 12
    for i in range(12):
        a, b = track.get(i), loaded.get(i)
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert np.array_equal(a.box, b.box) and np.array_equal(a.landmarks, b.landmarks)
            assert a.score == pytest.approx(b.score)

    broken = track.to_arrays()
    del broken["landmarks"]
    with pytest.raises(ValueError):
        FaceTrack.from_arrays(broken)


def test_a_cached_track_is_not_detected_again(memo, clip):
    frames = clip[:30]
    first, settled, _ = _build(memo, frames, interval=5)
    cached = FaceTrack.from_arrays(first.track.to_arrays())

    again = FaceTrackBuilder(memo, interval=5, track=cached, adaptive=False)
    out = []
    for index, frame in enumerate(frames):
        step = again.push(index, frame)
        assert [i for i, _, _ in step] == [index]  # nothing held back: answered at once
        out += step
    out += again.finish()
    assert [i for i, _, _ in again.push(3, frames[3])] == [3]  # a ping-pong revisit
    assert again.detections == 0
    for (_, _, a), (_, _, b) in zip(settled, out):
        assert a is not None and b is not None and np.array_equal(a.landmarks, b.landmarks)

    # Half cached (a cancelled first render): only the rest is detected, keys 15, 20, 25, 29.
    half = FaceTrack("yunet", {i: cached.entry(i) for i in range(15)})  # type: ignore[misc]
    rest, out, _ = _build(memo, frames, interval=5, track=half)
    assert rest.detections == 4
    assert all(f is not None for _, _, f in out) and len(half) == 30


def test_frames_must_come_in_increasing_order(memo, clip):
    builder = FaceTrackBuilder(memo, interval=5)
    builder.push(3, clip[3])
    with pytest.raises(ValueError):
        builder.push(2, clip[2])
    with pytest.raises(ValueError):
        FaceTrackBuilder(memo, interval=0)


def test_faces_are_immutable_copies():
    box = np.array([1, 2, 3, 4], dtype=np.float64)
    face = Face(box, np.zeros((5, 2)), 0.9)
    box[0] = 100
    assert face.box[0] == 1 and face.box.dtype == np.float32
    with pytest.raises(ValueError):
        face.landmarks[0, 0] = 5
