"""The per-device thread plan (threads.py) and where it is applied."""

from __future__ import annotations

import os
import sys
import threading

import cv2
import pytest

from app.engine.models.providers import DeviceChoice, session_options
from app.engine.render.frame_cache import FrameCache, JobFrames
from app.engine.render.pipeline import render
from app.engine.settings import RenderSettings
from app.engine.threads import (
    AUTO,
    lower_this_thread,
    thread_plan,
    usable_cores,
    use_opencv_threads,
)
from tests.support.media import PORTRAIT_VIDEO, SPEECH


def test_cpu_model_gets_every_core_as_single_threaded_workers() -> None:
    plan = thread_plan("cpu", cores=8)
    assert (plan.model_workers, plan.model_intra_op, plan.model_spinning) == (8, 1, False)
    assert (plan.decoder_threads, plan.encoder_threads) == (AUTO, AUTO)
    assert plan.opencv_threads == 1


def test_gpu_model_leaves_the_cores_to_the_codecs() -> None:
    plan = thread_plan("gpu", cores=8)
    assert (plan.model_workers, plan.model_intra_op, plan.model_spinning) == (1, 1, False)
    assert (plan.decoder_threads, plan.encoder_threads, plan.opencv_threads) == (AUTO,) * 3


def test_sessions_follow_the_plan() -> None:
    assert thread_plan("cpu").model_workers == usable_cores()
    cpu = session_options(DeviceChoice("cpu"))
    assert cpu.intra_op_num_threads == thread_plan("cpu").model_intra_op
    gpu = session_options(DeviceChoice("cuda"))
    assert gpu.intra_op_num_threads == thread_plan("gpu").model_intra_op
    for options in (cpu, gpu):
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def _priorities_during(settings: RenderSettings, frames: JobFrames | None) -> dict[str, int]:
    """The nice value of each render thread (and OpenCV's thread count) while the
    render writes frames; "encoding" is the thread that calls the video encoder (here:
    the test's, through on_progress)."""
    seen: dict[str, int] = {}

    def on_progress(_progress: object) -> None:
        seen["encoding"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["opencv threads"] = cv2.getNumThreads()
        for thread in threading.enumerate():
            if thread.name.startswith("lipsync-") or thread.name == "audio-encode":
                assert thread.native_id is not None
                try:
                    seen[thread.name] = os.getpriority(os.PRIO_PROCESS, thread.native_id)
                except OSError:  # it ended meanwhile
                    pass

    render(settings, on_progress=on_progress, frames=frames)
    return seen


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_encoders_feeders_run_below_it(shared_media, tmp_path) -> None:
    """A CPU render runs OpenCV at the plan's threads and its stage threads and the
    audio encoder's at the plan's feeder_nice, while the thread that calls the video
    encoder keeps its own priority: in a job that does all the work, and in a batch's
    later job whose frames are kept (its reader opens lazily, in the decode thread).
    Nothing outlives the render."""
    use_opencv_threads(AUTO)  # OpenCV's default before the render
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    feeders = {f"lipsync-{name}" for name in ("decode", "faces", "model", "blend")}
    feeders.add("audio-encode")
    cache = FrameCache(256 << 20)
    runs = []
    for k in range(2):
        settings = RenderSettings(
            video=shared_media / PORTRAIT_VIDEO,
            audio=shared_media / SPEECH,
            output=tmp_path / f"out{k}.mp4",
            model="draft",
            detector="haar",
        )
        frames = cache.job(settings.video, keep=k == 0)
        try:
            runs.append(_priorities_during(settings, frames))
        finally:
            assert frames is not None
            frames.close()
    nice = thread_plan("cpu").feeder_nice
    assert nice > 0
    for seen in runs:
        assert feeders <= seen.keys()
        assert {name: seen[name] for name in feeders} == dict.fromkeys(
            feeders, min(base + nice, 19)
        )
        assert seen["encoding"] == base
    first = runs[0]
    assert first["opencv threads"] == thread_plan("cpu").opencv_threads == 1
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_lowering_a_thread_leaves_the_others_alone() -> None:
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    got: list[int] = []

    def work() -> None:
        lower_this_thread(3)
        got.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert got == [min(base + 3, 19)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
