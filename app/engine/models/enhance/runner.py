"""A face enhancer (GFPGAN, RestoreFormer++, GPEN-BFR) through ONNX Runtime.

The contract follows FaceFusion's face_enhancer (facefusion/processors/modules/
face_enhancer/core.py: prepare_crop_frame, normalize_crop_frame, forward), which runs
the same published .onnx files:
- `input` (N, 3, S, S): the face aligned to the model's template (FFHQ for most,
  ArcFace-128 for gpen_bfr_256), RGB, scaled to [-1, 1] ((x / 255 - 0.5) / 0.5);
- output (N, 3, S, S): the restored face, RGB in [-1, 1] (clipped, then back to 0..255).
S is 512, or 256 for gpen_bfr_256. Files fixed to a batch of 1 are fed one row at a
time by OnnxRunner; the stage still hands them batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.engine.models.contracts import FACE_ENHANCER, Contract, TensorNames
from app.engine.models.lipsync.onnx_runner import (
    OnnxRunner,
    default_batch_size,
    session_label,
    to_uint8_hwc,
)

# name -> (template in render/crop.py, crop side); FaceFusion's model set.
ENHANCERS: dict[str, tuple[str, int]] = {
    "gfpgan_1.4": ("ffhq", 512),
    "restoreformer_plus_plus": ("ffhq", 512),
    "gpen_bfr_256": ("arcface_128", 256),
    "gpen_bfr_512": ("ffhq", 512),
}
FAMILY = FACE_ENHANCER.family


def contract(size: int) -> Contract:
    return FACE_ENHANCER.sized(size=size)


def input_size(session: ort.InferenceSession) -> int:
    """The crop side a file declares (its input's last dim), else 512."""
    last = session.get_inputs()[0].shape[-1]
    return last if isinstance(last, int) and last > 0 else 512


class FaceEnhancer:
    """Restores batches of aligned face crops (uint8 BGR in, uint8 BGR out)."""

    def __init__(
        self,
        session: ort.InferenceSession,
        name: str,
        *,
        template: str | None = None,
        batch_size: int | None = None,
        model_path: str | Path | None = None,
        names: TensorNames | None = None,
    ) -> None:
        """`names`: the binding recorded at install (registry.InstalledModel.names)."""
        self.name = name
        self.size = input_size(session)
        self.template = template or ENHANCERS.get(name, ("ffhq", self.size))[0]
        self.batch_size = batch_size or default_batch_size(session.get_providers()[0])
        label = str(model_path) if model_path else session_label(session, name)
        self._runner = OnnxRunner(
            session, contract(self.size), batch_size=self.batch_size, label=label, names=names
        )

    @property
    def runner(self) -> OnnxRunner:
        return self._runner

    def enhance(self, crops: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 BGR aligned faces -> (N, S, S, 3) uint8 BGR restored."""
        size = self.size
        if crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[1:] != (size, size, 3):
            raise ValueError(
                f"crops must be (N, {size}, {size}, 3) uint8, got {crops.shape} {crops.dtype}"
            )
        out = np.empty_like(crops)
        feed = self._runner.inputs["input"]
        for start, stop in self._runner.chunks(len(crops)):
            rows = feed[: stop - start]
            # BGR -> RGB, then x / 127.5 - 1: FaceFusion's (x / 255 - 0.5) / 0.5.
            rgb = crops[start:stop, :, :, ::-1].transpose(0, 3, 1, 2)
            np.multiply(rgb, np.float32(1 / 127.5), out=rows, dtype=np.float32)
            rows -= 1.0
            result = np.clip(self._runner.run(stop - start), -1.0, 1.0)
            result += 1.0
            result *= 0.5  # to 0..1, as to_uint8_hwc wants
            to_uint8_hwc(result, out[start:stop], reverse_channels=True)
        return out
