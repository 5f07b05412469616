"""Before/after contact sheets of the mouth (docs/quality/): old vs new code, side by side.

Two steps, so the "old" code can be any checkout (e.g. `git archive` of an earlier
commit unpacked in /tmp/old):

    PYTHONPATH=/tmp/old .venv/bin/python tools/quality_sheets.py tiles /tmp/tiles-old
    .venv/bin/python tools/quality_sheets.py tiles /tmp/tiles-new
    .venv/bin/python tools/quality_sheets.py sheet /tmp/tiles-old /tmp/tiles-new docs/quality

`tiles` renders the draft model on a still (i01) and a turned-head clip (h02) with
speech, and an identity Wav2Lip stand-in on the 1080x1920 presenter (v05), through the
engine found on sys.path, and saves the mouth region of chosen frames (loud speech,
and the 1st and 3rd frame after speech ends). `sheet` puts source | old | new in rows.
Needs ../shared/media and ../shared/models (not in the repository).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))  # tests.support; the engine comes from PYTHONPATH first

SHARED = REPO.parent / "shared"
YUNET = SHARED / "models" / "face_detection_yunet_2026may.onnx"
SPEECH = SHARED / "media/audio/a03_en_latentsync_demo1_audio.wav"
CLIPS = {
    "i01": "media/image/i01_face_recognition_obama_720p.jpg",
    "h02": "media/hard/h02_liveportrait_s32_woman_turned_head_1280x720.mp4",
    "v05": "media/video/v05_latentsync_demo1_woman_outdoor_1080x1920_hevc.mp4",
}
SPEECH_S, TAIL_S = 2.0, 0.6
TILE = 256


def _frames(path: Path) -> list[np.ndarray]:
    from app.engine.render import media

    with media.open_video(path) as reader:
        return list(reader.frames())


def _speech(work: Path) -> tuple[Path, np.ndarray]:
    """2 s of speech then 0.6 s of silence; per-frame RMS at 25 fps."""
    import av

    from app.engine.render import media

    wav = media.load_audio(SPEECH)[16000 : 16000 + int(SPEECH_S * 16000)]
    samples = np.concatenate([wav, np.zeros(int(TAIL_S * 16000), np.float32)])
    path = work / "speech.wav"
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)[None, :]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=16000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode())
    n = len(samples) * 25 // 16000
    rms = np.sqrt(np.mean(samples[: n * 640].reshape(n, 640) ** 2, axis=1))
    return path, rms


def _mouth_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    from app.engine.render.faces import create_detector

    face = create_detector("yunet", YUNET).detect(frame)[0]
    (rx, ry), (lx, ly) = face.landmarks[3], face.landmarks[4]
    w, cx, cy = lx - rx, (rx + lx) / 2, (ry + ly) / 2
    half = 1.3 * w
    return int(cx - half), int(cy - 1.0 * half), int(cx + half), int(cy + 1.0 * half)


def _tile(frame: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return cv2.resize(frame[y0:y1, x0:x1], (TILE, TILE), interpolation=cv2.INTER_CUBIC)


def tiles(out: Path) -> None:
    from app.engine.models.importing import import_model
    from app.engine.render import media
    from app.engine.render.pipeline import render
    from app.engine.settings import RenderSettings
    from tests.support import standins

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        speech, rms = _speech(work)
        loud_s = sorted((np.argsort(rms[: int(SPEECH_S * 25)])[-3:] / 25).tolist())
        end_s = (int(np.flatnonzero(rms > 0.01).max()) + 1) / 25  # when speech stops
        identity = standins.build_wav2lip_identity(work / "w2l_identity.onnx")
        import_model(identity, as_name="w2l_identity", family="wav2lip")
        for clip, rel in CLIPS.items():
            model = "w2l_identity" if clip == "v05" else "draft"
            video = SHARED / rel
            result = work / f"{clip}.mp4"
            render(
                RenderSettings(
                    video=video, audio=speech, output=result, model=model, detector_model=YUNET
                )
            )
            fps = media.probe(result).video.fps
            end = int(np.ceil(end_s * fps)) - 1  # the last frame with speech
            picks = [int(t * fps) for t in loud_s] + [end + 1, end + 3]
            rendered = _frames(result)
            source = _frames(video)
            src = [source[min(i, len(source) - 1)] for i in range(len(rendered))]
            box = _mouth_box(src[0])
            frames = picks if clip != "v05" else picks[:2]
            for i in frames:
                cv2.imwrite(str(out / f"{clip}_{i:03d}_source.png"), _tile(src[i], box))
                cv2.imwrite(str(out / f"{clip}_{i:03d}_render.png"), _tile(rendered[i], box))


def _label(image: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, image.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, image])


def sheet(old: Path, new: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    names = {"i01": "draft", "h02": "draft", "v05": "identity Wav2Lip"}
    for clip, what in names.items():
        rows = []
        for source in sorted(new.glob(f"{clip}_*_source.png")):
            stem = source.name.removesuffix("_source.png")
            frame = stem.split("_")[1]
            cells = [
                _label(cv2.imread(str(source)), f"{clip} frame {frame}: source"),
                _label(cv2.imread(str(old / f"{stem}_render.png")), f"old {what}"),
                _label(cv2.imread(str(new / f"{stem}_render.png")), f"new {what}"),
            ]
            rows.append(np.hstack(cells))
        if rows:
            cv2.imwrite(str(out / f"{clip}_{what.split()[-1].lower()}.png"), np.vstack(rows))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "tiles":
        tiles(Path(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "sheet":
        sheet(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
