"""Telling dropped files apart by probing them, folders expanded, with thumbnails."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.engine.render.file_probe import probe_files
from tests.mediagen import make_audio, make_video


def test_probe_tells_videos_from_audios_by_streams_not_names(tmp_path) -> None:
    audio_named_mp4 = make_audio(tmp_path / "voice.m4a", 1.0)
    audio_named_mp4 = audio_named_mp4.rename(tmp_path / "voice_really_audio.mp4")
    pattern_clip = make_video(tmp_path / "pattern.mp4", 160, 160, 25, 1.0, audio=False)
    video_named_wav = shutil.copy(pattern_clip, tmp_path / "clip_really_video.wav")
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video")
    report = probe_files([audio_named_mp4, Path(video_named_wav), junk])
    assert report.audios == (audio_named_mp4,)
    assert report.videos == (Path(video_named_wav),)
    assert [p for p, _ in report.unreadable] == [junk]
    assert report.thumbnails[Path(video_named_wav)].shape[0] == 54


def test_probe_expands_folders(tmp_path) -> None:
    folder = tmp_path / "batch"
    (folder / "sub").mkdir(parents=True)
    make_video(folder / "a.mp4", 160, 160, 25, 1.0, audio=False)
    make_audio(folder / "sub" / "b.wav", 1.0)
    (folder / ".hidden.wav").write_text("skipped")
    report = probe_files([folder])
    assert [p.name for p in report.videos] == ["a.mp4"]
    assert [p.name for p in report.audios] == ["b.wav"]
    assert report.unreadable == ()
