"""Wav2Lip (Prajwal et al. 2020) through ONNX Runtime: wav2lip_96, wav2lip_gan_96.

The contract follows FaceFusion's lip_syncer (facefusion/processors/modules/
lip_syncer/core.py: forward_wav2lip, prepare_crop_frame, normalize_crop_frame),
which runs the same published .onnx files:
- `source` (N, 1, 80, 16): one mel chunk per frame, Wav2Lip's normalisation in
  [-4, 4] (app.engine.render.audio already produces it; FaceFusion reaches the same range
  from a linear mel in prepare_audio_frame, then scales by weight * 2, i.e. x1.0 at
  its default weight 0.5: we feed the chunks unscaled).
- `target` (N, 6, 96, 96): BGR / 255, channels 0-2 the crop with rows 48.. zeroed
  (the mouth the model must draw), channels 3-5 the unmasked crop (the identity
  reference). FaceFusion passes the same frame as both, as we do.
- output (N, 3, 96, 96): BGR in 0..1.
FaceFusion cuts the 96x96 crop as the bounding box of the 68 landmarks inside its
ffhq_512 crop; our "wav2lip" template is the 5-point similarity equivalent.
"""

from __future__ import annotations

import numpy as np

from app.engine.models.contracts import WAV2LIP
from app.engine.models.lipsync.onnx_runner import OnnxLipSyncModel

CROP_SIZE = int(WAV2LIP.output.dims[-1])  # the face crop's side, in and out


class Wav2LipModel(OnnxLipSyncModel):
    """A LipSyncModel over a Wav2Lip session (any provider)."""

    contract = WAV2LIP
    default_name = "wav2lip_96"
    template = "wav2lip"
    crop_size = CROP_SIZE
    rgb = False

    def _fill_target(self, crops: np.ndarray) -> None:
        k, half = len(crops), CROP_SIZE // 2
        target = self._runner.inputs["target"]
        reference = target[:k, 3:6]
        # Same arithmetic as FaceFusion (float32 / 255), straight into the buffer.
        np.divide(crops.transpose(0, 3, 1, 2), np.float32(255.0), out=reference, dtype=np.float32)
        target[:k, 0:3, :half] = reference[:, :, :half]
        target[:k, 0:3, half:] = 0
