"""Installing stand-in models into the test's app home."""

from __future__ import annotations

from pathlib import Path

from app.engine.models.importing import import_model


def install(tmp_path: Path, builder, name: str, family: str) -> str:
    """Build a stand-in with `builder` and import it as `name` (the user's way)."""
    path = builder(tmp_path / f"{name}.onnx")
    import_model(path, as_name=name, family=family)
    return name
