"""EDTalk (Tan et al. 2024) lip-sync through ONNX Runtime: edtalk_256.

The contract follows FaceFusion's lip_syncer (facefusion/processors/modules/
lip_syncer/core.py: forward_edtalk, prepare_crop_frame, normalize_crop_frame),
which runs the same published file:
- `source` (N, 1, 80, 16): the same mel chunk as Wav2Lip's (prepare_audio_frame
  expands one (80, 16) chunk to (1, 1, 80, 16) for both families), not scaled by
  the weight.
- `target` (N, 3, 256, 256): the crop RGB / 255. FaceFusion warps the ffhq_512
  template at 512 and resizes to 256 (INTER_AREA); we warp our "ffhq" template
  (the same normalised points) at 256 directly.
- `weight` (1,) float32: how strongly the mouth follows the audio (FaceFusion's
  --lip-syncer-weight, 0..1, default 0.5; ours defaults to 1.0).
- output (N, 3, 256, 256): RGB in 0..1, flipped back to BGR.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnxruntime as ort

from app.engine.models.contracts import EDTALK, TensorNames
from app.engine.models.lipsync.onnx_runner import OnnxLipSyncModel

CROP_SIZE = int(EDTALK.output.dims[-1])  # the face crop's side, in and out


class EdTalkModel(OnnxLipSyncModel):
    """A LipSyncModel over an EDTalk session (any provider)."""

    contract = EDTALK
    default_name = "edtalk_256"
    template = "ffhq"
    crop_size = CROP_SIZE
    rgb = True

    def __init__(
        self,
        session: ort.InferenceSession,
        name: str | None = None,
        batch_size: int | None = None,
        weight: float = 1.0,
        *,
        model_path: str | Path | None = None,
        names: TensorNames | None = None,
    ) -> None:
        if not math.isfinite(weight):
            raise ValueError(f"weight must be finite, got {weight}")
        self.weight = float(weight)
        super().__init__(session, name, batch_size, model_path=model_path, names=names)

    def infer(self, crops: np.ndarray, mels: np.ndarray, indices: np.ndarray) -> np.ndarray:
        self._runner.inputs["weight"][0] = self.weight  # read at each call: may be changed
        return super().infer(crops, mels, indices)

    def _fill_target(self, crops: np.ndarray) -> None:
        # BGR -> RGB by reversing the channel axis of the view; no copy.
        rgb = crops[:, :, :, ::-1].transpose(0, 3, 1, 2)
        np.divide(
            rgb,
            np.float32(255.0),
            out=self._runner.inputs["target"][: len(crops)],
            dtype=np.float32,
        )
