"""`reproducible`: the same job gives the same bytes: output depends on the inputs and
settings only, never on thread timing or on what else the process (or the machine) is doing.

A render farm compares renders of one job made in different processes; they used to
differ now and then in the mouth region. The encoder was the cause: x264's
macroblock-tree rate control encoded the same frames differently depending on the
heap's state (what other threads had allocated), even with one encoder thread.
Both tests disturb the heap and the timing on purpose, so a regression fails at once.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from app.engine.render import media
from app.engine.render.pipeline import RenderResult, render
from app.engine.render.recipe import LipSync
from app.engine.render.stages import Channel
from app.engine.settings import RenderSettings
from tests.support.media import load_speech, talking_head_frames, write_clip, write_speech
from tests.support.paths import YUNET_PATH

SIDE = 320  # at 192 px too; 320 px shows the old encoder's drift in most runs


def _video_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


def _encode(path: Path, frames: list[np.ndarray], noise: random.Random) -> list[bytes]:
    junk = []
    with media.VideoWriter(path, SIDE, SIDE, 25.0, reproducible=True) as writer:
        for frame in frames:
            # Allocations of varying size between frames: the heap differs every run.
            junk.append(np.full(noise.randint(1, 200_000), 7, np.uint8))
            writer.write(frame)
    return _video_packets(path)


def test_the_encoder_gives_the_same_bytes_whatever_the_heap_holds(tmp_path: Path) -> None:
    frames = [cv2.resize(f, (SIDE, SIDE)) for f in talking_head_frames(15, 192)]
    noise = random.Random(1)
    first = _encode(tmp_path / "first.mp4", frames, noise)
    for run in range(4):
        again = _encode(tmp_path / f"again{run}.mp4", frames, noise)
        assert [len(p) for p in again] == [len(p) for p in first], f"run {run}"
        assert again == first, f"run {run}: same frames, different bytes"


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The farm test's job: 1 s of real face frames at 192 px, 0.6 s of speech."""
    folder = tmp_path_factory.mktemp("job")
    video = write_clip(folder / "face.mp4", talking_head_frames(25, 192))
    audio = write_speech(folder / "speech.wav", load_speech(), 1.0, 0.6)
    return video, audio


def _render(job: tuple[Path, Path], out: Path, detector: str) -> RenderResult:
    video, audio = job
    extra = {"detector_model": YUNET_PATH} if detector == "yunet" else {}
    settings = RenderSettings(
        video,
        audio,
        out,
        model="draft",
        track_cache=False,
        detector=detector,
        reproducible=True,
        **extra,
    )
    return render(settings)


def _track(result: RenderResult) -> list[tuple[int, bytes | None, bytes | None]]:
    track = result.track
    assert track is not None
    rows = []
    for index in track.indices():
        face = track.get(index)
        box = None if face is None else face.box.tobytes()
        rows.append((index, box, None if face is None else face.landmarks.tobytes()))
    return rows


@pytest.mark.parametrize("detector", ["haar", "yunet"])
def test_a_render_is_the_same_when_its_stages_run_slow_and_jittered(
    tmp_path: Path, job: tuple[Path, Path], detector: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if detector == "yunet" and not YUNET_PATH.is_file():
        pytest.fail(f"YuNet model missing at {YUNET_PATH}")
    plain = _render(job, tmp_path / "plain.mp4", detector)
    plain_frames = list(media.open_video(plain.output).frames())
    assert plain.frames_with_face == plain.frames  # the mouth is really animated

    noise = random.Random(2)
    junk: list[np.ndarray] = []
    infer, put = LipSync.infer, Channel.put

    def slow_infer(self, batch):  # the model stage lags: queues fill, the encoder waits
        time.sleep(noise.random() * 0.05)
        junk.append(np.full(noise.randint(1, 200_000), 7, np.uint8))
        return infer(self, batch)

    def jittered_put(self, item):  # every hand-over between stages at a random moment
        time.sleep(noise.random() * 0.003)
        return put(self, item)

    monkeypatch.setattr(LipSync, "infer", slow_infer)
    monkeypatch.setattr(Channel, "put", jittered_put)
    for run in range(2):
        again = _render(job, tmp_path / f"again{run}.mp4", detector)
        assert _track(again) == _track(plain), f"run {run}: the face track moved"
        frames = list(media.open_video(again.output).frames())
        assert len(frames) == len(plain_frames)
        for index, (a, b) in enumerate(zip(frames, plain_frames)):
            diff = int(np.abs(a.astype(np.int16) - b).max())
            assert diff == 0, f"run {run}: frame {index} differs by up to {diff}"
        assert _video_packets(again.output) == _video_packets(plain.output)


def _x264_options(path: Path) -> str:
    """The option string x264 writes into the stream (its SEI user data)."""
    with av.open(str(path)) as container:
        first = bytes(next(p for p in container.demux(video=0) if p.size))
    start = first.index(b"options: ")
    return first[start : first.index(b"\x00", start)].decode("ascii", "replace")


def test_only_a_reproducible_render_turns_the_macroblock_tree_off(tmp_path: Path) -> None:
    """mbtree saves ~30 % on a still presenter at equal quality: kept unless asked."""
    frames = [cv2.resize(f, (SIDE, SIDE)) for f in talking_head_frames(5, 192)]
    for reproducible, expected in ((False, "mbtree=1"), (True, "mbtree=0")):
        path = tmp_path / f"{reproducible}.mp4"
        with media.VideoWriter(path, SIDE, SIDE, 25.0, reproducible=reproducible) as writer:
            for frame in frames:
                writer.write(frame)
        assert expected in _x264_options(path).split()
