"""Small shared curves."""

from __future__ import annotations

import numpy as np


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, and a smooth S (3x² - 2x³) between: soft masks and motions."""
    # maximum/minimum, not np.clip (several times slower on big masks); Python floats
    # keep a float32 mask float32
    x = np.minimum(np.maximum(x, 0.0), 1.0)
    return x * x * (3.0 - 2.0 * x)
