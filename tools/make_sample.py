"""Regenerate the bundled sample in app/resources/samples/ (run once; the outputs are committed).

presenter.mp4: NASA's portrait of astronaut Eileen Collins (public domain; the copy that
ships inside scikit-image as skimage/data/astronaut.png), cropped around the face, with a
gentle synthetic head motion (small rotation, scale and drift), 4 s, 25 fps, H.264.
speech.wav: espeak-ng (GPL-3 program; its output is ours) reading the script below.

Needs: pip install scikit-image (only for this script) and Debian's espeak-ng.
"""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "app" / "resources" / "samples"
SCRIPT = (
    "Hello, and welcome to Lipsync Studio. Drop a presenter video and a speech track "
    "onto the list, and press start. Everything runs on your own computer."
)
FPS, SECONDS, SIZE = 25, 4, 480
CROP = (75, 0, 375, 300)  # x1, y1, x2, y2 in the 512×512 portrait: head and shoulders


def portrait() -> np.ndarray:
    import skimage  # noqa: PLC0415 - only this tool needs it

    path = Path(skimage.__file__).parent / "data" / "astronaut.png"
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def frame_at(image: np.ndarray, t: float) -> np.ndarray:
    x1, y1, x2, y2 = CROP
    centre = ((x1 + x2) / 2, (y1 + y2) / 2 + 20)
    angle = 2.0 * math.sin(2 * math.pi * 0.3 * t)
    scale = 1.0 + 0.02 * math.sin(2 * math.pi * 0.2 * t + 1.0)
    matrix = cv2.getRotationMatrix2D(centre, angle, scale)
    matrix[0, 2] += 3.0 * math.sin(2 * math.pi * 0.25 * t)
    matrix[1, 2] += 2.0 * math.sin(2 * math.pi * 0.35 * t + 0.5)
    moved = cv2.warpAffine(image, matrix, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    return cv2.resize(moved[y1:y2, x1:x2], (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)


def write_presenter(path: Path) -> None:
    image = portrait()
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(FPS))
        stream.width = stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "slow"}
        for i in range(FPS * SECONDS):
            frame = av.VideoFrame.from_ndarray(frame_at(image, i / FPS), format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def write_speech(path: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), SCRIPT], check=True)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write_presenter(OUT / "presenter.mp4")
    write_speech(OUT / "speech.wav")
    for f in sorted(OUT.iterdir()):
        print(f.name, f.stat().st_size)
