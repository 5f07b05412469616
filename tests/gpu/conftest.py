"""Tests marked `gpu` run on an NVIDIA machine (tools/gpu_check.sh) and skip cleanly
everywhere else: without onnxruntime-gpu, a CUDA device or a driver."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

CUDA = "CUDAExecutionProvider"


@functools.cache
def cuda_problem(scratch: Path) -> str | None:
    """Why ONNX Runtime cannot run a model on CUDA here (None: it can)."""
    import onnxruntime as ort

    from tests.support import standins

    if CUDA not in ort.get_available_providers():
        return f"this onnxruntime ({ort.__version__}) has no {CUDA}: install onnxruntime-gpu"
    model = standins.build_wav2lip_identity(scratch / "probe.onnx")
    try:
        session = ort.InferenceSession(str(model), providers=[CUDA, "CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - any failure means no GPU run
        return f"a CUDA session cannot start: {exc}"
    if session.get_providers()[0] != CUDA:
        return "onnxruntime fell back to the CPU (no GPU, driver or CUDA/cuDNN libraries)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.gpu)


@pytest.fixture(autouse=True)
def needs_cuda(tmp_path_factory: pytest.TempPathFactory) -> None:
    problem = cuda_problem(tmp_path_factory.getbasetemp())
    if problem is not None:
        pytest.skip(f"no GPU: {problem}")
