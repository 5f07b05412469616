"""Installed ONNX model name -> a runner (Wav2LipModel / EdTalkModel) on a device.

Sessions come from one SessionCache per process: loading a model onto a GPU takes
seconds, and every job of a batch asks for the same one.
"""

from __future__ import annotations

from app.engine.errors import InputError
from app.engine.models import registry as models
from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.edtalk import EdTalkModel
from app.engine.models.lipsync.wav2lip import Wav2LipModel
from app.engine.models.providers import SessionCache

SESSIONS = SessionCache()

RUNNERS = {"wav2lip": Wav2LipModel, "edtalk": EdTalkModel}


def create_onnx_model(
    name: str,
    device: str = "auto",
    batch_size: int | None = None,
    sessions: SessionCache = SESSIONS,
) -> LipSyncModel:
    installed = models.resolve(name)  # ModelNotInstalled says how to get it
    runner = RUNNERS.get(installed.family)
    if runner is None:
        raise InputError(f"{name}: a {installed.family} model, not a lip-sync model")
    session = sessions.get(installed.path, device)
    return runner(session, name=name, batch_size=batch_size, model_path=installed.path)
