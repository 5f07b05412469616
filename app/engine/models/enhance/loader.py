"""Enhancer name -> a FaceEnhancer on the lip-sync model's device (or None for "none")."""

from __future__ import annotations

from app.engine.errors import InputError
from app.engine.models import registry as models
from app.engine.models.enhance.runner import FAMILY, FaceEnhancer
from app.engine.models.providers import SessionCache

NONE = "none"


def enhancer_names() -> list[str]:
    """The registry's face enhancers, in its order."""
    return [e.name for e in models.load_registry() if e.family == FAMILY]


def load_enhancer(
    name: str, device: str, batch_size: int | None, sessions: SessionCache
) -> FaceEnhancer | None:
    if name == NONE:
        return None
    registry = models.load_registry()
    if name not in registry or registry.get(name).family != FAMILY:
        known = ", ".join([NONE, *enhancer_names()])
        raise InputError(f"enhancer '{name}': not a face enhancer (known: {known})")
    installed = models.resolve(name)  # ModelNotInstalled says how to get it
    session = sessions.get(installed.path, device)
    return FaceEnhancer(
        session, name, batch_size=batch_size, model_path=installed.path, names=installed.names
    )
