"""Model name -> a ready LipSyncModel. `auto` picks the best installed model, else draft."""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

from app.engine.errors import InputError
from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.draft import DraftModel

if TYPE_CHECKING:
    from app.engine.models.providers import SessionCache

log = logging.getLogger(__name__)

# Best first: what `--model auto` looks for among the installed models.
BEST_FIRST = ("edtalk_256", "wav2lip_gan_96", "wav2lip_96")


def load_model(name: str, device: str = "auto", batch_size: int | None = None) -> LipSyncModel:
    if name == "auto":
        name = best_installed()
    if name == "draft":
        model = DraftModel()
        if batch_size:
            model.batch_size = batch_size
        return model
    return _load_onnx_model(name, device, batch_size)


def check_device(name: str, device: str) -> None:
    """A device the user typed is one this machine has and `name` runs on: never a silent
    CPU fallback (the draft model has no GPU code). Raises InputError."""
    from app.engine.models.providers import parse_device, resolve_device

    kind, _ = parse_device(device)
    if kind == "auto":
        return
    resolve_device(device)  # a provider this onnxruntime lacks: InputError with the fix
    resolved = best_installed() if name == "auto" else name
    if resolved == "draft" and kind != "cpu":
        installed = " (no neural model is installed)" if name == "auto" else ""
        raise InputError(
            f"device {device}: the draft model runs on the CPU only{installed}; "
            "choose cpu or auto, or a neural model"
        )


def best_installed() -> str:
    from app.engine.models import registry as models

    installed = {m.name for m in models.installed_models()}
    return next((n for n in BEST_FIRST if n in installed), "draft")


def _load_onnx_model(name: str, device: str, batch_size: int | None) -> LipSyncModel:
    """An installed ONNX model on a device; ONNX Runtime loads only when one is asked for."""
    from app.engine.models import registry
    from app.engine.models.lipsync.edtalk import EdTalkModel
    from app.engine.models.lipsync.wav2lip import Wav2LipModel

    installed = registry.resolve(name)  # ModelNotInstalled says how to get it
    runner = {"wav2lip": Wav2LipModel, "edtalk": EdTalkModel}.get(installed.family)
    if runner is None:
        raise InputError(f"{name}: a {installed.family} model, not a lip-sync model")
    session = sessions().get(installed.path, device)
    return runner(
        session, name=name, batch_size=batch_size, model_path=installed.path, names=installed.names
    )


@functools.cache
def sessions() -> SessionCache:
    """This process's sessions: loading a model onto a GPU takes seconds, and every job of
    a batch asks for the same one."""
    from app.engine.models.providers import SessionCache

    return SessionCache()
