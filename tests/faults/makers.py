"""Input makers for the fault corpus: each writes the files of one case into a folder.

Media are tiny (64x48, 1 s) and made with PyAV (tests/mediagen.py); a maker named
after a problem makes a file with exactly that problem. Add a maker here, then a case
in cases.py.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

from tests.support.mediagen import make_audio, make_video
from tests.support.paths import SHARED_MEDIA

FACE_STILL = SHARED_MEDIA / "image" / "i02_sadtalker_happy_256.png"


def talk(folder: Path, name: str = "talk.mp4", seconds: float = 1.0) -> Path:
    return make_video(folder / name, 64, 48, 25, seconds, audio=False)


def voice(folder: Path, name: str = "voice.wav", seconds: float = 1.0) -> Path:
    return make_audio(folder / name, seconds)


def pair(folder: Path) -> None:
    """talk.mp4 (1 s, 64x48) + voice.wav (1 s of tone): a valid render."""
    talk(folder)
    voice(folder)


def pair_with(**files: bytes):
    """pair() plus files with the given content (names with '/' make folders)."""

    def make(folder: Path) -> None:
        pair(folder)
        for name, data in files.items():
            path = folder / name.replace("__", "/").replace("_DOT_", ".")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    return make


def download_named(folder: Path) -> None:
    """A finished download still named like a browser's unfinished one: talk.mp4.part."""
    talk(folder, "talk.mp4.part.mp4").rename(folder / "talk.mp4.part")
    voice(folder)


def output_folder_exists(folder: Path) -> None:
    pair(folder)
    (folder / "out.mp4").mkdir()
    (folder / "out.mp4" / "keep.txt").write_text("a folder the user made")


def existing_output(folder: Path) -> None:
    pair(folder)
    (folder / "out.mp4").write_bytes(b"an earlier render, replaced on purpose")


def no_video_stream(folder: Path) -> None:
    make_audio(folder / "talk.m4a", 1.0)
    voice(folder)


def silent_video_as_audio(folder: Path) -> None:
    talk(folder)
    talk(folder, "quiet.mp4")


def short_audio(folder: Path) -> None:
    talk(folder)
    voice(folder, seconds=0.2)


def cut_mp4(folder: Path) -> None:
    """An MP4 copied half-way: its index (moov, at the end without faststart) is gone."""
    whole = make_video(folder / "whole.mp4", 64, 48, 25, 2.0, audio=False)
    data = whole.read_bytes()
    (folder / "talk.mp4").write_bytes(data[: len(data) // 2])
    whole.unlink()
    voice(folder)


def cut_index(folder: Path) -> None:
    """A fast-start MP4 (index first, as the app writes them) cut inside its index."""
    from app.engine.render.media import VideoWriter
    from tests.support.mediagen import pattern_frame

    with VideoWriter(folder / "whole.mp4", 64, 48, 25) as writer:
        for i in range(50):
            writer.write(pattern_frame(i, 64, 48))
    data = (folder / "whole.mp4").read_bytes()
    assert data[4:8] == b"ftyp" and b"moov" in data[:64]
    (folder / "talk.mp4").write_bytes(data[: len(data) // 20])
    (folder / "whole.mp4").unlink()
    voice(folder)


def bit_rot(folder: Path) -> None:
    """An MKV whose middle third is overwritten with noise: every frame there is damaged."""
    path = make_video(folder / "talk.mkv", 64, 48, 25, 2.0, audio=False)
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    noise = (bytes(range(256)) * (third // 256 + 1))[:third]
    data[third : 2 * third] = noise
    path.write_bytes(bytes(data))
    voice(folder)


def truncated_wav(folder: Path) -> None:
    """A WAV whose header says 4 s but that holds 1.3 s (a copy cut short)."""
    talk(folder)
    whole = make_audio(folder / "whole.wav", 4.0)
    data = whole.read_bytes()
    whole.unlink()
    # 16 kHz mono s16: 32000 bytes a second after the header, whose data chunk says 4 s.
    start = data.index(b"data") + 8
    assert struct.unpack("<I", data[start - 4 : start])[0] == 4 * 32000
    (folder / "voice.wav").write_bytes(data[: start + int(1.3 * 32000)])


def truncated_mp3(folder: Path) -> None:
    """Half an mp3: its Xing header still counts every frame of the whole file."""
    talk(folder)
    whole = make_audio(folder / "whole.mp3", 4.0)
    data = whole.read_bytes()
    whole.unlink()
    (folder / "voice.mp3").write_bytes(data[: len(data) // 2])


def face_still(folder: Path) -> None:
    shutil.copy(FACE_STILL, folder / "face.png")
    voice(folder)


def nan_model(folder: Path) -> None:
    """A face, and a Wav2Lip-contract model (imported as `nanny`) that outputs NaN."""
    from app.engine.models.importing import import_model
    from tests.support.standins import build_wav2lip_solid

    face_still(folder)
    model = build_wav2lip_solid(folder / "nanny.onnx", bgr=(float("nan"), 0.0, 0.0))
    import_model(model, as_name="nanny", family="wav2lip")


def queue_db(data: bytes | None = None, cut: bool = False):
    """A jobs.sqlite3 in the data folder: random bytes, or a real one cut in half."""

    def make(folder: Path) -> None:
        from app.engine import paths
        from app.engine.queue.jobstore import DB_NAME

        db = paths.data_dir() / DB_NAME
        if cut:
            with sqlite3.connect(db) as conn:
                conn.execute("CREATE TABLE filler (x BLOB)")
                conn.executemany(
                    "INSERT INTO filler VALUES (?)", [(bytes(4000),) for _ in range(50)]
                )
            conn.close()
            whole = db.read_bytes()
            db.write_bytes(whole[: len(whole) // 2])
        else:
            db.write_bytes(data or b"")
        pair(folder)

    return make


def batch_inputs(folder: Path) -> None:
    (folder / "talks").mkdir()
    (folder / "voices").mkdir()
    talk(folder / "talks", "alice.mp4")
    voice(folder / "voices", "hello.wav")


def damaged_yunet(folder: Path) -> None:
    """The pair, and an app data folder (home/, for LIPSYNC_STUDIO_HOME) whose own YuNet copy
    is cut short: it shadows the copy shipped with the app and fails its sha256."""
    pair(folder)
    models = folder / "home" / "data" / "models"
    models.mkdir(parents=True)
    (models / "face_detection_yunet_2026may.onnx").write_bytes(b"\x08\x07" * 1000)


def model_folder(folder: Path) -> None:
    (folder / "weights.onnx").mkdir()


def long_names(folder: Path) -> None:
    pair(folder)
