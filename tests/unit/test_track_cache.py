"""The face-track cache through real renders: a video is detected once, whatever audio."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.engine import paths
from app.engine.render import media, track_cache
from app.engine.render.face_track import FaceTrack, TrackFrame
from app.engine.render.faces import Face, HaarDetector
from app.engine.render.pipeline import RenderResult, render
from app.engine.render.track_cache import TrackSettings
from app.engine.settings import RenderSettings
from tests.conftest import SHARED_MEDIA
from tests.support.media import talking_head_frames
from tests.unit.test_pipeline import SPEECH, write_wav

SIZE = 192  # small renders: a real face that Haar finds at this size in every frame
FPS = 25.0


def load_source_frames(n: int = 60) -> list[np.ndarray]:
    """The first n frames of a real talking-head clip, at SIZE x SIZE."""
    return talking_head_frames(n, SIZE)


def load_speech() -> np.ndarray:
    return media.load_audio(SHARED_MEDIA / SPEECH)  # 9.6 s, 16 kHz mono


@pytest.fixture(scope="module")
def source_frames() -> list[np.ndarray]:
    return load_source_frames()


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return load_speech()


def write_clip(path: Path, frames: list[np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with media.VideoWriter(path, SIZE, SIZE, FPS, crf=20, preset="ultrafast") as w:
        for frame in frames:
            w.write(frame)
    return path


def write_speech(path: Path, speech: np.ndarray, start_s: float, seconds: float) -> Path:
    return write_wav(path, speech[int(start_s * 16000) : int((start_s + seconds) * 16000)])


def render_with_cache(video: Path, audio: Path, out: Path, **components) -> RenderResult:
    settings = RenderSettings(video=video, audio=audio, output=out, model="draft", detector="haar")
    assert settings.track_cache  # on by default
    return render(settings, **components)


def stored_tracks() -> list[Path]:
    return sorted((paths.cache_dir() / track_cache.TRACKS_DIR).glob("*.npz"))


@pytest.fixture(autouse=True)
def fresh_stats():
    track_cache.reset_stats()


@pytest.fixture
def clip(tmp_path, source_frames) -> Path:
    return write_clip(tmp_path / "in" / "presenter.mp4", source_frames[:25])


def test_a_second_audio_against_the_same_video_runs_no_detection(clip, speech, tmp_path):
    first = render_with_cache(
        clip, write_speech(tmp_path / "a.wav", speech, 1, 1.0), tmp_path / "one.mp4"
    )
    assert first.detections > 0 and first.frames_with_face == first.frames == 25
    assert len(stored_tracks()) == 1

    second = render_with_cache(
        clip, write_speech(tmp_path / "b.wav", speech, 4, 1.0), tmp_path / "two.mp4"
    )
    assert second.detections == 0
    assert second.frames_with_face == 25
    for i in range(25):  # the very faces the first render settled
        a, b = first.track.get(i), second.track.get(i)
        assert a is not None and b is not None
        assert np.array_equal(a.box, b.box) and np.array_equal(a.landmarks, b.landmarks)
    assert len(stored_tracks()) == 1  # nothing new: not written again
    stats = track_cache.stats()
    assert (stats.misses, stats.hits, stats.saves) == (1, 1, 1)
    assert (stats.hashes_computed, stats.hashes_reused) == (1, 1)  # hashed once


def test_a_changed_video_gets_a_new_track_and_a_copy_keeps_its_own(
    clip, speech, source_frames, tmp_path
):
    audio = write_speech(tmp_path / "a.wav", speech, 1, 1.0)
    first = render_with_cache(clip, audio, tmp_path / "one.mp4")
    assert first.detections > 0

    copy = shutil.copy(clip, tmp_path / "in" / "copy of presenter.mp4")
    assert render_with_cache(Path(copy), audio, tmp_path / "copy.mp4").detections == 0

    write_clip(clip, source_frames[30:55])  # other bytes under the same name
    changed = render_with_cache(clip, audio, tmp_path / "two.mp4")
    assert changed.detections > 0
    assert len(stored_tracks()) == 2
    assert track_cache.stats().hashes_computed == 3  # the copy and the rewrite were read


class RecordingHaar(HaarDetector):
    """Haar, remembering each frame it was asked to look at."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[np.ndarray] = []

    def detect(self, frame_bgr: np.ndarray) -> list[Face]:
        self.seen.append(frame_bgr.copy())  # the blend stage paints on the frame later
        return super().detect(frame_bgr)


def test_a_longer_render_detects_only_the_frames_beyond_the_cached_ones(clip, speech, tmp_path):
    short = render_with_cache(
        clip, write_speech(tmp_path / "a.wav", speech, 1, 0.6), tmp_path / "short.mp4"
    )
    assert short.frames == 15 and short.detections > 0

    detector = RecordingHaar()
    longer = render_with_cache(
        clip,
        write_speech(tmp_path / "b.wav", speech, 3, 1.0),
        tmp_path / "long.mp4",
        detector=detector,
    )
    assert longer.frames == 25 and longer.frames_with_face == 25
    assert longer.detections == len(detector.seen) > 0
    with media.open_video(clip) as reader:
        decoded = list(reader.frames())
    detected = [
        next(i for i, f in enumerate(decoded) if np.array_equal(f, seen)) for seen in detector.seen
    ]
    assert min(detected) >= 15, detected  # frames 0-14 came from the cache

    settings = TrackSettings.of(detector, interval=RenderSettings.detect_interval, fps=FPS)
    stored = track_cache.load(clip, settings)
    assert stored is not None and stored.indices() == list(range(25))  # merged
    again = render_with_cache(
        clip, write_speech(tmp_path / "c.wav", speech, 5, 1.0), tmp_path / "again.mp4"
    )
    assert again.detections == 0


def _garbage(path: Path) -> None:
    path.write_bytes(os.urandom(300))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _not_a_track(path: Path) -> None:
    with path.open("wb") as f:
        np.savez(f, something=np.arange(5))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage",
    [_garbage, _truncated, _not_a_track, _empty],
    ids=["garbage", "truncated", "not-a-track", "empty"],
)
def test_a_corrupt_cache_file_is_ignored_and_replaced(damage, clip, speech, tmp_path):
    audio = write_speech(tmp_path / "a.wav", speech, 1, 1.0)
    render_with_cache(clip, audio, tmp_path / "one.mp4")
    (entry,) = stored_tracks()
    damage(entry)

    again = render_with_cache(clip, audio, tmp_path / "two.mp4")
    assert again.detections > 0 and again.frames_with_face == 25
    assert render_with_cache(clip, audio, tmp_path / "three.mp4").detections == 0  # rewritten


def test_a_track_stored_for_other_bytes_is_not_taken(clip, speech, source_frames, tmp_path):
    """A file renamed into another video's entry (or a hash-name clash) is a miss."""
    audio = write_speech(tmp_path / "a.wav", speech, 1, 1.0)
    other = write_clip(tmp_path / "in" / "other.mp4", source_frames[30:55])
    render_with_cache(other, audio, tmp_path / "other.mp4")
    (foreign,) = stored_tracks()
    render_with_cache(clip, audio, tmp_path / "one.mp4")
    (mine,) = set(stored_tracks()) - {foreign}
    shutil.copy(foreign, mine)
    assert render_with_cache(clip, audio, tmp_path / "two.mp4").detections > 0


def test_a_damaged_hash_index_costs_a_rehash_not_the_track(clip, speech, tmp_path):
    audio = write_speech(tmp_path / "a.wav", speech, 1, 1.0)
    render_with_cache(clip, audio, tmp_path / "one.mp4")
    index = paths.cache_dir() / track_cache.TRACKS_DIR / track_cache.HASH_DB
    index.write_bytes(b"this is not a database" * 100)
    assert render_with_cache(clip, audio, tmp_path / "two.mp4").detections == 0
    assert render_with_cache(clip, audio, tmp_path / "three.mp4").detections == 0
    stats = track_cache.stats()
    assert stats.hashes_computed == 2 and stats.hashes_reused == 1  # index rebuilt


def test_track_cache_off_detects_every_time_and_stores_nothing(clip, speech, tmp_path):
    audio = write_speech(tmp_path / "a.wav", speech, 1, 1.0)
    for name in ("one.mp4", "two.mp4"):
        settings = RenderSettings(
            video=clip,
            audio=audio,
            output=tmp_path / name,
            model="draft",
            detector="haar",
            track_cache=False,
        )
        assert render(settings).detections > 0
    assert stored_tracks() == []
    assert track_cache.stats() == track_cache.CacheStats()


def _track(detector: str, indices: range, x: float) -> FaceTrack:
    box = np.array([x, 10, x + 50, 60], np.float32)
    landmarks = np.tile(np.array([x + 20, 30], np.float32), (5, 1))
    return FaceTrack(detector, {i: TrackFrame(Face(box, landmarks, 0.9), 0, True) for i in indices})


def test_save_merges_keeps_stored_faces_and_keys_on_every_setting(tmp_path):
    video = tmp_path / "v.bin"
    video.write_bytes(b"not really a video, but bytes to hash" * 1000)
    haar = HaarDetector()
    settings = TrackSettings.of(haar, interval=5, fps=25.0)
    assert track_cache.load(video, settings) is None

    assert track_cache.save(video, settings, _track("haar", range(10), x=1))
    assert not track_cache.save(video, settings, _track("haar", range(5), x=2))  # nothing new
    assert track_cache.save(video, settings, _track("haar", range(5, 20), x=3))
    merged = track_cache.load(video, settings)
    assert merged is not None and merged.indices() == list(range(20))
    assert merged.get(7).box[0] == 1 and merged.get(12).box[0] == 3  # stored faces kept

    for other in (
        TrackSettings.of(haar, interval=3, fps=25.0),
        TrackSettings.of(haar, interval=5, fps=30.0),
        TrackSettings("yunet", "0" * 64, 5, 25.0),
    ):
        assert track_cache.load(video, other) is None
    assert track_cache.stats().hits == 1


def test_the_file_hash_is_remembered_until_the_file_changes(tmp_path):
    video = tmp_path / "v.bin"
    video.write_bytes(b"x" * 3_000_000)
    first = track_cache.content_hash(video)
    assert track_cache.content_hash(video) == first
    assert track_cache.stats().hashes_computed == 1
    st = video.stat()
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # touched: re-read
    assert track_cache.content_hash(video) == first
    with video.open("r+b") as f:  # other bytes, same size: a new hash
        f.write(b"y")
    os.utime(video, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000))
    assert track_cache.content_hash(video) != first
    assert track_cache.stats().hashes_computed == 3
    assert track_cache.content_hash(tmp_path / "gone.bin") is None
