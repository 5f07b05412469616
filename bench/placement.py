"""Where the draft model's generated mouth lands, against YuNet run on every source frame.

For each output frame, the generated mouth opening is found in the pixels: the draft
model shades the opened gap as a dark mouth interior, so the opening is where the output
is much darker than the source frame it came from (the largest such blob). Its centre is
compared with the true mouth centre, the midpoint of the two mouth corners YuNet finds on
that source frame, in units of the mouth width (corner to corner). Frames where no
opening was drawn (silence) are not counted.

`python -m bench.placement VIDEO AUDIO --detector-model YUNET [--detect-every N] [--fixed]`
renders with the draft model and prints the result.
"""

from __future__ import annotations

import argparse
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.engine.render import media
from app.engine.render.faces import Face, FaceDetector
from app.engine.render.frame_plan import plan_frames
from app.engine.render.pipeline import RenderResult, render
from app.engine.settings import RenderSettings

OFF_LIMIT = 0.4  # mouth widths: a mouth further than this from the true one is misplaced
DARKER = 40  # luma levels: the shaded mouth interior against the source (codec noise: < 15)
MIN_OPENING = 0.01  # of the mouth width squared: smaller dark blobs are not an opening


@dataclass
class Placement:
    frames: int = 0  # output frames looked at
    openings: int = 0  # frames with a generated mouth opening and a true face
    errors: list[float] = field(default_factory=list)  # per opening, in mouth widths
    # How far the drawn mouth moves against the true one from a frame to the next (the
    # change of its offset, mouth widths), over neighbouring frames that both have one.
    jitter: list[float] = field(default_factory=list)

    @property
    def off(self) -> int:
        """Openings more than OFF_LIMIT mouth widths from the true mouth."""
        return sum(e > OFF_LIMIT for e in self.errors)

    @property
    def off_fraction(self) -> float:
        return self.off / self.openings if self.openings else 0.0

    def summary(self) -> dict[str, float]:
        errors = np.asarray(self.errors or [0.0])
        return {
            "frames": self.frames,
            "openings": self.openings,
            "off": self.off,
            "off_pct": round(100 * self.off_fraction, 2),
            "median": round(float(np.median(errors)), 3),
            "p95": round(float(np.percentile(errors, 95)), 3),
            "jitter_p90": round(float(np.percentile(self.jitter or [0.0], 90)), 3),
        }


def _true_face(faces: list[Face], near: np.ndarray) -> Face | None:
    """The detected face whose mouth is nearest the opening (several faces: the one that
    was animated)."""
    if not faces:
        return None
    return min(faces, key=lambda f: float(np.linalg.norm(f.landmarks[3:].mean(0) - near)))


def opening_centre(source: np.ndarray, output: np.ndarray, mouth_width: float) -> np.ndarray | None:
    """Centre (x, y) of the largest region where the output is much darker, or None."""
    src = cv2.cvtColor(source, cv2.COLOR_BGR2GRAY).astype(np.int16)
    out = cv2.cvtColor(output, cv2.COLOR_BGR2GRAY).astype(np.int16)
    mask = ((src - out) > DARKER).astype(np.uint8)
    n, _labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[best, cv2.CC_STAT_AREA] < MIN_OPENING * mouth_width**2:
        return None
    return centroids[best].astype(np.float32)


def measure(video: Path, output: Path, detector: FaceDetector, loop: str = "pingpong") -> Placement:
    """Placement of every generated mouth in `output`, rendered from `video`."""
    result = Placement()
    with media.open_video(output) as rendered, media.open_video(video) as source:
        # As long as the output: zip stops at its last frame (counts are estimates).
        planned = plan_frames(source, 1 << 30, loop, video.name)
        with closing(rendered.frames()) as outputs:
            previous: np.ndarray | None = None
            for shown, frame in zip(outputs, planned):
                result.frames += 1
                faces = detector.detect(frame.frame)
                largest = faces[0].width if faces else 0.0
                centre = opening_centre(frame.frame, shown, max(largest * 0.35, 8.0))
                face = _true_face(faces, centre) if centre is not None else None
                if centre is None or face is None:
                    previous = None
                    continue
                corners = face.landmarks[3:]
                width = float(np.linalg.norm(corners[1] - corners[0]))
                offset = (centre - corners.mean(0)) / max(width, 1.0)
                result.openings += 1
                result.errors.append(float(np.linalg.norm(offset)))
                if previous is not None:
                    result.jitter.append(float(np.linalg.norm(offset - previous)))
                previous = offset
    return result


def render_and_measure(
    video: Path,
    audio: Path,
    detector_model: Path,
    folder: Path,
    **settings: object,
) -> tuple[Placement, RenderResult]:
    """Draft render of `video` + `audio` into `folder`: its placement, and the render's
    result (fps, detections)."""
    from app.engine.render.faces import YuNetDetector

    out = folder / f"{video.stem}-{audio.stem}.mp4"
    out.unlink(missing_ok=True)  # an earlier measurement's: the render would pick NAME_2
    result = render(
        RenderSettings(
            video=video,
            audio=audio,
            output=out,
            model="draft",
            device="cpu",
            detector="yunet",
            detector_model=detector_model,
            track_cache=False,
            **settings,  # type: ignore[arg-type]
        )
    )
    placement = measure(
        video, result.output, YuNetDetector(detector_model), str(settings.get("loop", "pingpong"))
    )
    return placement, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("audio", type=Path)
    parser.add_argument("--detector-model", type=Path, required=True)
    parser.add_argument("--detect-every", type=int, default=RenderSettings.detect_interval)
    parser.add_argument("--fixed", action="store_true", help="detect every N-th frame only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        placement, result = render_and_measure(
            args.video,
            args.audio,
            args.detector_model,
            Path(tmp),
            detect_interval=args.detect_every,
            adaptive_detection=not args.fixed,
        )
    fps = result.frames / result.elapsed_s
    print({**placement.summary(), "detections": result.detections, "render_fps": round(fps, 1)})


if __name__ == "__main__":
    main()
