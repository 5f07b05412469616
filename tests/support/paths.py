"""Where the tests find the repository and the shared real media and models."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
SHARED_MEDIA = SHARED / "media"
YUNET_PATH = SHARED / "models" / "face_detection_yunet_2026may.onnx"
