"""The one small interface every lip-sync model family implements.

The pipeline cuts an aligned square crop of the face for each frame (template and
size chosen by the model), hands the model a batch of crops with the mel chunk of
each frame, and pastes what comes back. A model that leaves a crop unchanged
(the draft model in silence) returns it bit-identical; if the model also sets
`passthrough_unchanged = True`, the pipeline then leaves that frame untouched
instead of pasting the crop back. Neural models always paste (an identity model
must still exercise the geometry and the blend).
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
