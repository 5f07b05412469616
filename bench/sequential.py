"""The sequential baseline: one job done the way Wav2Lip's inference.py does it, built
from the engine's own pieces (same decoder, detector and tracking, model, blend and
x264 settings), so only the structure differs from pipeline.py:

1. read every frame the audio needs into a list (inference.py: `full_frames`);
2. detect faces in all of them (`face_detect`);
3. crop and infer batch by batch (recipe.LipSync, as the render does); each batch's
   frames are pasted and written to a video-only file as soon as it is inferred
   (inference.py calls `out.write` inside its batch loop), all in one thread;
4. mux the audio in as a separate step (inference.py runs ffmpeg; here PyAV copies the
   video packets and encodes AAC at 48 kHz, as the app's writer does).
"""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path

import av
from av.audio.resampler import AudioResampler

from app.engine.models.lipsync.base import LipSyncModel
from app.engine.render import media
from app.engine.render.face_track import FaceTrackBuilder
from app.engine.render.faces import FaceDetector
from app.engine.render.frame_plan import plan_frames
from app.engine.render.recipe import LipSync, speech_mels


def render(
    video: Path,
    audio: Path,
    output: Path,
    model: LipSyncModel,
    detector: FaceDetector,
    interval: int = 5,
    crf: int = 18,
    preset: str = "veryfast",
) -> tuple[int, dict[str, float]]:
    """Frames written and the seconds of each step."""
    phases: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = phases.get(name, 0.0) + now - clock
        clock = now

    info = media.probe(video).video
    assert info is not None
    fps = info.fps
    mels = speech_mels(audio, fps)
    n = len(mels)
    model.prepare(mels)
    lap("audio_s")

    with media.open_video(video) as reader:
        frames = [p.frame for p in plan_frames(reader, n, "pingpong", video.name)]
    lap("read_s")

    builder = FaceTrackBuilder(detector, interval)
    for index, frame in enumerate(frames):
        builder.push(index, frame)
    builder.finish()
    faces = [builder.track.get(index) for index in range(n)]
    lap("detect_s")

    video_only = output.with_name(output.stem + ".video.mp4")
    h, w = frames[0].shape[:2]
    writer = media.VideoWriter(video_only, w, h, fps, crf=crf, preset=preset)
    step = LipSync(model, mels)
    try:
        for start in range(0, n, model.batch_size):
            batch = range(start, min(start + model.batch_size, n))
            generated = step.infer([(i, frames[i], faces[i]) for i in batch])
            lap("infer_s")
            for item in generated:
                writer.write(step.paste(item))
            lap("blend_write_s")
        writer.close()
    except BaseException:
        writer.abort()
        raise
    lap("blend_write_s")

    mux_audio(video_only, audio, output)
    video_only.unlink()
    lap("mux_s")
    return n, phases


def mux_audio(video_only: Path, audio: Path, output: Path) -> None:
    """Copy the video stream and encode the audio (AAC, 48 kHz) into `output`."""
    with (
        av.open(str(video_only)) as vin,
        av.open(str(audio)) as ain,
        av.open(str(output), "w", format="mp4") as out,
    ):
        vsrc = vin.streams.video[0]
        vdst = out.add_stream_from_template(vsrc)
        asrc = ain.streams.audio[0]
        layout = "stereo" if asrc.channels >= 2 else "mono"
        adst = out.add_stream("aac", rate=media.OUT_AUDIO_RATE)
        adst.codec_context.layout = layout
        adst.codec_context.format = "fltp"
        adst.codec_context.bit_rate = media.OUT_AUDIO_BITRATE
        adst.codec_context.time_base = Fraction(1, media.OUT_AUDIO_RATE)
        for packet in vin.demux(vsrc):
            if packet.dts is None:
                continue
            packet.stream = vdst
            out.mux(packet)
        resampler = AudioResampler("fltp", layout, media.OUT_AUDIO_RATE)
        for frame in ain.decode(asrc):
            frame.pts = None
            for chunk in resampler.resample(frame):
                out.mux(adst.encode(chunk))
        for chunk in resampler.resample(None):
            out.mux(adst.encode(chunk))
        out.mux(adst.encode())
