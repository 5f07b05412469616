"""app.engine.render.media on real data: clips made with PyAV in tmp_path and the shared clips."""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import os
import shutil
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.engine import outputs
from app.engine.errors import InputError
from app.engine.render import media
from app.engine.render.media.writer import AUDIO_AHEAD_S
from tests.support.mediagen import (
    SQUARE_BGR,
    luma_psnr,
    make_audio,
    make_image,
    make_vfr_video,
    make_video,
    pattern_frame,
    read_index,
    square_colour,
)

V01 = "video/v01_vrt_face1_en_man_suit.mp4"  # "30 fps" with dropped frames: 135 in 6.1 s
V02 = "video/v02_vrt_face2_en_man_map.mp4"  # moov at the end
V04 = "video/v04_sadtalker_hdtf_katiehill_en.mp4"  # MPEG-4 part 2, 16 kHz audio
V05 = "video/v05_latentsync_demo1_woman_outdoor_1080x1920_hevc.mp4"
V08 = "video/v08_liveportrait_d13_man_selfie_720x1280_noaudio.mp4"
V09 = "video/v09_liveportrait_s18_woman_silent_1280x720_30fps.mp4"  # moov first (faststart)
I01 = "image/i01_face_recognition_obama_720p.jpg"
I02 = "image/i02_sadtalker_happy_256.png"
A03 = "audio/a03_en_latentsync_demo1_audio.wav"
A04 = "audio/a04_en_whisper_jfk.flac"
A05 = "audio/a05_en_vexpress_AOC_aud.mp3"
A07 = "audio/a07_zh_sadtalker_chinese_news.wav"


def _digest(frame: np.ndarray) -> str:
    return hashlib.sha1(frame.tobytes()).hexdigest()


def _packets_info(path: Path) -> dict:
    """What the output really holds, read with PyAV directly (not through media.py)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        info = {
            "pix_fmt": video.codec_context.pix_fmt,
            "codec": video.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "rate": video.average_rate,
            "time_base": video.time_base,
            "pts": [f.pts for f in container.decode(video)],
        }
        if audio is not None:
            info["audio"] = {
                "codec": audio.codec_context.name,
                "rate": audio.rate,
                "channels": audio.channels,
                "duration": float(audio.duration * audio.time_base),
            }
    return info


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """1 s, 64x48, 25 fps, with a 1 s 440 Hz tone; keyframe every 5 frames."""
    return make_video(tmp_path_factory.mktemp("clip") / "clip.mp4", 64, 48, 25, 1.0, gop=5)


# -- probe -------------------------------------------------------------------------------


def test_probe_generated_clip(clip):
    info = media.probe(clip)
    assert info.path == clip
    assert "mp4" in info.format
    assert info.duration == pytest.approx(1.0, abs=0.03)
    assert info.video == media.VideoInfo(
        width=64,
        height=48,
        fps=25.0,
        frame_count=25,
        rotation=0,
        codec="h264",
        is_image=False,
        duration=1.0,
    )
    assert info.audio is not None
    assert (info.audio.sample_rate, info.audio.channels, info.audio.codec) == (48000, 1, "aac")
    assert info.audio.duration == pytest.approx(1.0, abs=0.03)


def test_probe_answers_an_unchanged_file_without_opening_it_again(tmp_path, monkeypatch):
    probe_module = importlib.import_module("app.engine.render.media.probe")  # not the function
    path = make_video(tmp_path / "a.mp4", 64, 48, 25, 1.0)
    opened: list[Path] = []
    real_open = probe_module.open_input

    def counting_open(p, *args, **kwargs):
        opened.append(Path(p))
        return real_open(p, *args, **kwargs)

    monkeypatch.setattr(probe_module, "open_input", counting_open)
    first = media.probe(path)
    assert media.probe(path) == first
    assert opened == [path]
    # Rewritten (another length): probed afresh.
    make_video(tmp_path / "b.mp4", 64, 48, 25, 2.0)
    os.replace(tmp_path / "b.mp4", path)
    assert media.probe(path).duration == pytest.approx(2.0, abs=0.03)
    assert opened == [path, path]
    # A file that fails is never remembered: it fails each time, naming itself.
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    for _ in range(2):
        with pytest.raises(InputError, match="bad.mp4"):
            media.probe(bad)
    assert opened.count(bad) == 2


@pytest.mark.parametrize(
    ("name", "video", "audio"),
    [
        (V01, dict(width=700, height=700, fps=30.0, frame_count=183, codec="h264"), True),
        (V04, dict(width=512, height=512, fps=25.0, frame_count=200, codec="mpeg4"), True),
        (V05, dict(width=1080, height=1920, fps=25.0, frame_count=250, codec="hevc"), True),
        (V08, dict(width=720, height=1280, fps=30.0, frame_count=352, codec="h264"), False),
        (I01, dict(width=1280, height=720, fps=25.0, frame_count=1, is_image=True), False),
        (I02, dict(width=256, height=256, fps=25.0, frame_count=1, codec="png"), False),
    ],
)
def test_probe_shared_videos_and_images(shared_media, name, video, audio):
    info = media.probe(shared_media / name)
    assert info.video is not None
    for key, value in video.items():
        assert getattr(info.video, key) == value, key
    assert info.video.is_image == name.startswith("image/")
    assert info.video.rotation == 0
    assert (info.audio is not None) == audio
    if name == V04:
        assert info.audio.sample_rate == 16000


@pytest.mark.parametrize(
    ("name", "rate", "channels", "codec", "duration"),
    [
        (A04, 44100, 2, "flac", 11.0),
        (A05, 44100, 2, "mp3float", 4.574),
        (A03, 16000, 1, "pcm_s16le", 9.6),
    ],
)
def test_probe_shared_audio(shared_media, name, rate, channels, codec, duration):
    info = media.probe(shared_media / name)
    assert info.video is None
    assert info.audio == media.AudioInfo(rate, channels, codec, pytest.approx(duration, abs=0.01))
    assert info.duration == pytest.approx(duration, abs=0.01)


def test_to_dict_is_json(clip, shared_media):
    for path in (clip, shared_media / A05):
        info = media.probe(path)
        data = json.loads(json.dumps(info.to_dict()))
        assert data["path"] == str(path)
        assert data["format"] == info.format
        assert data["duration"] == info.duration
        if info.video is None:
            assert data["video"] is None
        else:
            assert data["video"]["width"] == info.video.width
            assert data["video"]["frame_count"] == info.video.frame_count
        assert data["audio"]["sample_rate"] == info.audio.sample_rate


@pytest.mark.parametrize(
    ("average", "guessed", "expected"),
    [
        (Fraction(25), Fraction(25), Fraction(25)),
        (Fraction(1350, 61), Fraction(30), Fraction(30)),  # dropped frames: the camera rate
        (Fraction(2997, 100), Fraction(90000), Fraction(2997, 100)),  # time-base artefact
        (Fraction(30), Fraction(120), Fraction(30)),  # a phone's VFR grid: the average
        (None, Fraction(24), Fraction(24)),
        (Fraction(0), None, Fraction(25)),
    ],
)
def test_choose_rate(average, guessed, expected):
    assert media.choose_rate(average, guessed) == expected


# -- decoding video ----------------------------------------------------------------------


def test_frames_count_size_and_pixels(clip):
    with media.open_video(clip) as reader:
        frames = list(reader.frames())
    assert len(frames) == reader.info.frame_count == 25
    for i, frame in enumerate(frames):
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
        assert frame.flags.c_contiguous and frame.flags.writeable  # callers draw on them
        assert read_index(frame) == i
        assert luma_psnr(frame, pattern_frame(i, 64, 48)) > 35


def test_seek_gives_the_same_frames_as_skipping(clip):
    with media.open_video(clip) as reader:
        full = list(reader.frames())
        for start in (1, 4, 5, 6, 13, 24):  # keyframes at 0, 5, 10 …
            again = list(reader.frames(start))
            assert len(again) == len(full) - start
            assert all(np.array_equal(a, b) for a, b in zip(again, full[start:])), start
        assert list(reader.frames(25)) == []
        assert list(reader.frames(1000)) == []


@pytest.mark.parametrize("suffix", [".mkv", ".ts", ".h264"])
def test_seek_in_other_containers(tmp_path, suffix):
    # MPEG-TS seeks by byte position, a raw H.264 stream cannot seek at all.
    path = make_video(tmp_path / f"clip{suffix}", 64, 48, 25, 1.6, audio=False, gop=5)
    with media.open_video(path) as reader:
        full = [read_index(f) for f in reader.frames()]
        assert full == list(range(40))
        for start in (1, 4, 5, 9, 21, 34, 35, 36, 39, 40, 41):  # keyframes every 5
            assert [read_index(f) for f in reader.frames(start)] == full[start:], start


@pytest.mark.parametrize("name", [V01, V04])
def test_seek_on_real_clips(shared_media, name):
    with media.open_video(shared_media / name) as reader:
        full = [_digest(f) for f in reader.frames()]
        n = len(full)
        for start in (1, 47, n // 2, n - 3):
            got = [_digest(f) for f in itertools.islice(reader.frames(start), 8)]
            assert got == full[start : start + 8], start


def test_vfr_clip_is_resampled_by_timestamp(tmp_path):
    # A "30 fps" clip with dropped frames, as v01: frames sit on a 1/30 s grid with gaps.
    slots = [0, 1, 3, 4, 6, 7, 8, 10, 12, 13, 14, 16, 19, 20]
    path = make_vfr_video(tmp_path / "vfr.mp4", [s / 30 for s in slots], gop=4)
    with media.open_video(path) as reader:
        assert reader.info.fps == 30.0
        shown = [read_index(f) for f in reader.frames()]
        # Output frame i shows the latest source frame at or before i/30 s.
        expected = [max(k for k, s in enumerate(slots) if s <= i) for i in range(slots[-1] + 1)]
        assert shown == expected
        assert reader.info.frame_count == len(expected)
        for start in range(1, len(expected)):
            assert [read_index(f) for f in reader.frames(start)] == expected[start:], start


def test_vfr_real_clip_v01(shared_media):
    with media.open_video(shared_media / V01) as reader:
        digests = [_digest(f) for f in reader.frames()]
    assert abs(len(digests) - 6.1 * 30) <= 1
    # The 135 source frames each show up, the gaps are filled by repeating the previous one.
    runs = 1 + sum(a != b for a, b in zip(digests, digests[1:]))
    assert runs == 135


def test_resample_holds_first_and_last_frames():
    timed = [(0.1, 0.1, "a"), (0.2, 0.2, "b")]
    assert list(media.resample(timed, Fraction(10))) == [(0, "a"), (1, "a"), (2, "b"), (3, "b")]
    assert list(media.resample(timed, Fraction(10), start=2)) == [(2, "b"), (3, "b")]
    assert list(media.resample([], Fraction(10))) == []


@pytest.mark.parametrize("name", [I01, I02])
def test_image_is_one_frame(shared_media, name):
    with media.open_video(shared_media / name) as reader:
        frames = list(reader.frames())
        assert len(frames) == 1
        assert frames[0].shape == (reader.info.height, reader.info.width, 3)
        assert frames[0].std() > 10  # a real picture, not a blank
        assert list(reader.frames(1)) == []


@pytest.mark.parametrize(
    ("rotation", "suffix", "rotation_as"),
    [(90, ".mp4", "matrix"), (180, ".mp4", "matrix"), (270, ".mp4", "matrix"), (90, ".mkv", "tag")],
)
def test_rotation_metadata_gives_upright_frames(tmp_path, rotation, suffix, rotation_as):
    path = make_video(
        tmp_path / f"rot{suffix}",
        64,
        48,
        25,
        0.4,
        audio=False,
        rotation=rotation,
        rotation_as=rotation_as,
    )
    with av.open(str(path)) as container:  # the file really stores a turned picture
        coded = container.streams.video[0].codec_context
        assert (coded.width, coded.height) == ((48, 64) if rotation != 180 else (64, 48))
    with media.open_video(path) as reader:
        assert reader.info.rotation == rotation
        assert (reader.info.width, reader.info.height) == (64, 48)
        frames = list(reader.frames())
    assert len(frames) == 10
    for i, frame in enumerate(frames):
        assert frame.shape == (48, 64, 3)
        assert luma_psnr(frame, pattern_frame(i, 64, 48)) > 35


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_jpeg_exif_orientation_gives_an_upright_image(tmp_path, rotation):
    path = make_image(tmp_path / "photo.jpg", 64, 48, exif_rotation=rotation)
    with media.open_video(path) as reader:
        assert reader.info.rotation == rotation and reader.info.is_image
        assert (reader.info.width, reader.info.height) == (64, 48)
        (frame,) = reader.frames()
    assert luma_psnr(frame, pattern_frame(0, 64, 48)) > 30


@pytest.mark.parametrize("color_tags", [True, False])
def test_colours_follow_the_colour_matrix(tmp_path, color_tags):
    # Tagged BT.709, or untagged HD, which players (and the reader) take as BT.709.
    path = make_video(tmp_path / "hd.mp4", 1280, 720, 25, 0.08, audio=False, color_tags=color_tags)
    with media.open_video(path) as reader:
        frame = next(reader.frames())
    assert square_colour(frame, 0) == pytest.approx(SQUARE_BGR, abs=6)


def test_reader_close_ends_open_iterators(clip):
    reader = media.open_video(clip)
    frames = reader.frames()
    next(frames)
    reader.close()
    assert next(frames, None) is None
    with pytest.raises(RuntimeError):
        reader.frames()


# -- decoding audio ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "rate", "channels"),
    [
        (".wav", 16000, 1),
        (".wav", 44100, 2),
        (".mp3", 22050, 1),
        (".flac", 48000, 2),
        (".m4a", 44100, 2),
        (".ogg", 48000, 1),
    ],
)
def test_load_audio_formats(tmp_path, suffix, rate, channels):
    path = make_audio(tmp_path / f"tone{suffix}", 1.5, rate, channels, "tone")
    audio = media.load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(1.5 * 16000, abs=0.01 * 16000)
    assert np.abs(audio).max() <= 1.0
    # A 440 Hz tone of amplitude 0.5 in every channel: mono is their mean, not a louder sum.
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.argmax(spectrum) * 16000 / len(audio) == pytest.approx(440, abs=2)
    assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.06)


@pytest.mark.parametrize(
    ("name", "seconds"),
    [(A03, 9.6), (A04, 11.0), (A05, 4.574), (A07, 8.0), (V04, 8.0)],
)
def test_load_audio_shared(shared_media, name, seconds):
    audio = media.load_audio(shared_media / name)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == pytest.approx(seconds * 16000, abs=0.005 * 16000)
    assert 0.005 < np.sqrt(np.mean(audio**2)) < 0.5  # speech, not silence or noise at 0 dBFS


def test_load_audio_of_a_video_and_other_rates(clip):
    audio = media.load_audio(clip)
    assert len(audio) == 16000  # MP4's edit list: exactly the track's 1.0 s
    assert len(media.load_audio(clip, 22050)) == 22050


def test_load_audio_speechlike_keeps_its_envelope(tmp_path):
    path = make_audio(tmp_path / "speech.wav", 2.0, 48000, 2, "speechlike")
    audio = media.load_audio(path)
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)  # 10 ms
    loudness = np.sqrt((frames**2).mean(axis=1))
    assert (loudness < 0.02).sum() > 20 and (loudness > 0.05).sum() > 20  # pauses and syllables


# -- encoding ----------------------------------------------------------------------------


def _write(path: Path, frames: list[np.ndarray], fps: float = 25, **kwargs) -> Path:
    h, w = frames[0].shape[:2]
    writer = media.VideoWriter(path, w, h, fps, **kwargs)
    for frame in frames:
        writer.write(frame)
    return writer.close()


@pytest.mark.parametrize("channels", [1, 2])
def test_writer_round_trip_with_audio(tmp_path, channels):
    speech = make_audio(tmp_path / "speech.flac", 3.0, 44100, channels, "speechlike")
    frames = [pattern_frame(i, 96, 64) for i in range(50)]
    out = _write(tmp_path / "out.mp4", frames, 25, audio_path=speech)
    assert out == tmp_path / "out.mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "speech.flac"]
    info = _packets_info(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == (96, 64)
    assert info["rate"] == 25
    assert len(info["pts"]) == 50
    # Cut to the video's length (the speech is 3 s), at 48 kHz, channels kept.
    assert info["audio"]["codec"] == "aac"
    assert info["audio"]["rate"] == 48000 and info["audio"]["channels"] == channels
    assert info["audio"]["duration"] == pytest.approx(2.0, abs=1 / 25)
    probed = media.probe(out)
    assert probed.video.frame_count == 50 and probed.video.fps == 25.0
    # The original audio, not silence: its level matches the source's first 2 s.
    source, written = media.load_audio(speech)[:32000], media.load_audio(out)
    assert len(written) == pytest.approx(32000, abs=16000 / 25)
    rms = lambda a: float(np.sqrt(np.mean(a**2)))  # noqa: E731
    assert rms(written) == pytest.approx(rms(source), rel=0.15)


def test_writer_pads_audio_to_duration_with_silence(tmp_path):
    short = make_audio(tmp_path / "short.wav", 0.5, 16000, 1, "tone")
    frames = [pattern_frame(i, 64, 48) for i in range(25)]  # 1 s of video
    out = _write(tmp_path / "out.mp4", frames, 25, audio_path=short, duration=1.5)
    info = _packets_info(out)
    assert info["audio"]["duration"] == pytest.approx(1.5, abs=1 / 25)
    assert info["audio"]["channels"] == 1
    audio = media.load_audio(out)
    assert np.sqrt(np.mean(audio[1600:6400] ** 2)) > 0.3  # the tone
    assert np.abs(audio[int(0.7 * 16000) :]).max() < 0.01  # then silence


@pytest.mark.parametrize("duration", [None, 20.0])
def test_writer_encodes_audio_alongside_the_video(tmp_path, duration):
    """The audio is encoded as the video comes (on its own thread): at most
    AUDIO_AHEAD_S ahead of it when the output's length is known, never ahead when not,
    so the muxer never holds the whole soundtrack."""
    speech = make_audio(tmp_path / "long.wav", 20.0, 16000, 1, "speechlike")
    writer = media.VideoWriter(
        tmp_path / "out.mp4", 64, 48, 25, audio_path=speech, duration=duration
    )
    ahead = AUDIO_AHEAD_S if duration else 0.0
    try:
        for k in range(1, 51):
            writer.write(pattern_frame(k, 64, 48))
            deadline = time.monotonic() + 10
            while writer.audio_seconds < k / 25 + ahead - 1024 / 48000:
                assert time.monotonic() < deadline, f"audio stuck at {writer.audio_seconds}"
                time.sleep(0.001)
            assert writer.audio_seconds <= k / 25 + ahead
    finally:
        writer.abort()
    assert list(tmp_path.iterdir()) == [speech]


def test_writer_odd_size_drops_last_row_and_column(tmp_path):
    frames = [pattern_frame(i, 321, 241) for i in range(10)]
    out = _write(tmp_path / "odd.mp4", frames)
    with media.open_video(out) as reader:
        assert (reader.info.width, reader.info.height) == (320, 240)
        decoded = list(reader.frames())
    assert len(decoded) == 10
    for i, (got, sent) in enumerate(zip(decoded, frames)):
        assert luma_psnr(got, sent[:240, :320]) > 35
        assert square_colour(got, i) == pytest.approx(SQUARE_BGR, abs=6)


def test_writer_pixel_accuracy_on_real_frames(tmp_path, shared_media):
    with media.open_video(shared_media / V04) as reader:
        frames = list(itertools.islice(reader.frames(), 12))
    out = _write(tmp_path / "face.mp4", frames, 25, crf=18)
    with media.open_video(out) as reader:
        decoded = list(reader.frames())
    assert len(decoded) == 12
    psnr = [luma_psnr(a, b) for a, b in zip(decoded, frames)]
    assert min(psnr) > 35, psnr


def test_writer_ntsc_rate_has_exact_timestamps(tmp_path):
    frames = [pattern_frame(i, 64, 48) for i in range(30)]
    out = _write(tmp_path / "ntsc.mp4", frames, 30000 / 1001)
    info = _packets_info(out)
    assert info["rate"] == Fraction(30000, 1001)
    times = [pts * info["time_base"] for pts in info["pts"]]
    assert times == [Fraction(1001, 30000) * i for i in range(30)]
    assert media.probe(out).video.fps == pytest.approx(30000 / 1001)


def test_writer_is_faststart_and_written_as_part_first(tmp_path):
    out = tmp_path / "out.mp4"
    writer = media.VideoWriter(out, 64, 48, 25)
    for i in range(30):
        writer.write(pattern_frame(i, 64, 48))
    assert not out.exists()
    assert outputs.is_temp_of(out, writer.part) and writer.part.exists()
    assert writer.close() == out
    assert writer.close() == out  # idempotent
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    head = out.read_bytes()[:4096]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head
    writer.abort()  # after close: must not delete the finished file
    assert out.exists()


def test_abort_leaves_nothing(tmp_path, clip):
    writer = media.VideoWriter(tmp_path / "out.mp4", 64, 48, 25, audio_path=clip)
    for i in range(40):
        writer.write(pattern_frame(i, 64, 48))
    writer.abort()
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write(pattern_frame(0, 64, 48))
    with pytest.raises(RuntimeError):
        writer.close()


def test_exception_in_with_block_aborts(tmp_path):
    with pytest.raises(KeyError):
        with media.VideoWriter(tmp_path / "out.mp4", 64, 48, 25) as writer:
            for i in range(30):
                writer.write(pattern_frame(i, 64, 48))
            raise KeyError("boom")
    assert list(tmp_path.iterdir()) == []
    with media.VideoWriter(tmp_path / "ok.mp4", 64, 48, 25) as writer:
        writer.write(pattern_frame(0, 64, 48))
    assert [p.name for p in tmp_path.iterdir()] == ["ok.mp4"]


def test_writer_rejects_wrong_frames_and_bad_audio(tmp_path):
    silent = make_video(tmp_path / "silent.mp4", 64, 48, 25, 0.2, audio=False)
    with pytest.raises(InputError, match="silent.mp4: has no audio stream"):
        media.VideoWriter(tmp_path / "out.mp4", 64, 48, 25, audio_path=silent)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["silent.mp4"]
    with pytest.raises(InputError, match="preset"):
        media.VideoWriter(tmp_path / "out.mp4", 64, 48, 25, preset="warp-speed")
    with pytest.raises(InputError, match=r"nowhere/out\.mp4: cannot write to .*nowhere"):
        media.VideoWriter(tmp_path / "nowhere" / "out.mp4", 64, 48, 25)
    with media.VideoWriter(tmp_path / "out.mp4", 64, 48, 25) as writer:
        with pytest.raises(ValueError):
            writer.write(np.zeros((48, 65, 3), np.uint8))
        writer.write(pattern_frame(0, 64, 48))


# -- bad input ---------------------------------------------------------------------------


def _truncate(source: Path, target: Path, fraction: float = 0.6) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


BAD_INPUTS = {
    "missing": (lambda d, m: d / "video.mp4", "video.mp4: file not found"),
    "empty": (lambda d, m: _touch(d / "clip.mp4"), "clip.mp4: file is empty (0 bytes)"),
    "text": (
        lambda d, m: _text(d / "notes.mp4"),
        "notes.mp4: not a media file FFmpeg can read",
    ),
    "truncated, index last": (
        lambda d, m: _truncate(m / V02, d / "broken.mp4"),
        "broken.mp4: truncated or corrupt (",
    ),
    "truncated, index first": (
        lambda d, m: _truncate(m / V09, d / "cut.mp4"),
        "cut.mp4: truncated or corrupt (",
    ),
    "folder": (lambda d, m: _mkdir(d / "folder.mp4"), "folder.mp4: is a folder"),
}


def _touch(path: Path) -> Path:
    path.touch()
    return path


def _text(path: Path) -> Path:
    path.write_text("meeting notes\nnot a video at all\n" * 20)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("reader", [media.probe, media.open_video, media.load_audio])
def test_bad_inputs_raise_input_error_naming_the_file(tmp_path, shared_media, case, reader):
    make, message = BAD_INPUTS[case]
    path = make(tmp_path, shared_media)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(InputError) as caught:
        reader(path)
    text = str(caught.value)
    assert text.startswith(f"{path.parent}{os.sep}{message}"), text  # the path as given
    assert "\n" not in text and "Traceback" not in text
    error = caught.value  # no chained FFmpeg exception to print under it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    if before is not None:
        assert path.read_bytes() == before  # inputs are never modified


def test_truncated_flac_is_detected_but_a_short_wav_is_fine(tmp_path, shared_media):
    cut = _truncate(shared_media / A04, tmp_path / "cut.flac")
    assert media.probe(cut).audio.duration == 11.0  # the header still promises 11 s
    with pytest.raises(InputError, match=r"/cut\.flac: truncated or corrupt \(decoded"):
        media.load_audio(cut)
    short = make_audio(tmp_path / "short.wav", 0.2)
    assert len(media.load_audio(short)) == 3200


def test_truncated_output_of_our_writer_is_detected(tmp_path):
    frames = [pattern_frame(i, 64, 48) for i in range(50)]
    out = _write(tmp_path / "full.mp4", frames)
    cut = _truncate(out, tmp_path / "cut.mp4", 0.6)
    with pytest.raises(InputError, match=r"/cut\.mp4: truncated or corrupt \(the file ends"):
        media.probe(cut)


def test_missing_streams(tmp_path, shared_media):
    speech = make_audio(tmp_path / "speech.wav", 0.5)
    with pytest.raises(InputError, match=r"/speech\.wav: has no video stream$"):
        media.open_video(speech)
    audio_only = make_audio(tmp_path / "audio.mp4", 0.5)
    with pytest.raises(InputError, match=r"/audio\.mp4: has no video stream$"):
        media.open_video(audio_only)
    silent = shutil.copy(shared_media / V08, tmp_path / "selfie.mp4")
    with pytest.raises(InputError, match=r"/selfie\.mp4: has no audio stream$"):
        media.load_audio(silent)
    assert media.probe(speech).video is None and media.probe(silent).audio is None
