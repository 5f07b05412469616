"""Model name -> a ready LipSyncModel. `auto` picks the best installed model, else draft."""

from __future__ import annotations

import logging

from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.draft import DraftModel

log = logging.getLogger(__name__)

# Best first: what `--model auto` looks for among the installed models.
AUTO_ORDER = ("edtalk_256", "wav2lip_gan_96", "wav2lip_96")


def load_model(name: str, device: str = "auto", batch_size: int | None = None) -> LipSyncModel:
    if name == "auto":
        name = best_installed()
    if name == "draft":
        model = DraftModel()
        if batch_size:
            model.batch_size = batch_size
        return model
    return _load_onnx_model(name, device, batch_size)


def best_installed() -> str:
    try:
        from app.engine.models import registry as models
    except ImportError:
        return "draft"
    installed = {m.name for m in models.installed_models()}
    return next((n for n in AUTO_ORDER if n in installed), "draft")


def _load_onnx_model(name: str, device: str, batch_size: int | None) -> LipSyncModel:
    from app.engine.models.lipsync.factory import create_onnx_model

    return create_onnx_model(name, device, batch_size)
