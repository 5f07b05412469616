"""The one small interface every lip-sync model family implements.

The pipeline cuts an aligned square crop of the face for each frame (template and
size chosen by the model), hands the model a batch of crops with the mel chunk of
each frame, and pastes only what the model changed (render/blend.py). A crop a
model leaves unchanged (the draft model in silence, an identity model) must come
back bit-identical: the frame then keeps its own full-resolution pixels.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class LipSyncModel(Protocol):
    name: str
    crop_size: int  # side of the square crop, pixels
    template: str  # key of app.engine.render.crop.TEMPLATES
    batch_size: int  # crops per infer() call the pipeline should aim for

    def prepare(self, mels: np.ndarray) -> None:
        """See the whole clip's mel chunks (T, 80, 16) once before rendering starts."""
        ...

    def infer(self, crops: np.ndarray, mels: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """crops (N, S, S, 3) uint8 BGR, mels (N, 80, 16) float32, indices (N,) output
        frame numbers -> mouths (N, S, S, 3) uint8 BGR."""
        ...
