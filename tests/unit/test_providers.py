"""Device strings -> ONNX Runtime providers, and the session cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from app.engine.errors import InputError
from app.engine.models.providers import (
    DeviceChoice,
    SessionCache,
    list_devices,
    parse_device,
    resolve_device,
)

CPU, CUDA, DML = "CPUExecutionProvider", "CUDAExecutionProvider", "DmlExecutionProvider"
REAL = ort.get_available_providers()


def doubling_onnx(path: Path, factor: float = 2.0) -> Path:
    """A runnable ONNX file: y = x * factor, x of shape (N, 4)."""
    from onnx import TensorProto, helper, save

    f = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["y"])],
        "double",
        [helper.make_tensor_value_info("x", f, ["N", 4])],
        [helper.make_tensor_value_info("y", f, ["N", 4])],
        [helper.make_tensor("k", f, [1], [factor])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("cpu", ("cpu", None)),
        (" CPU ", ("cpu", None)),
        ("auto", ("auto", None)),
        ("cuda", ("cuda", None)),
        ("cuda:1", ("cuda", 1)),
        ("dml:0", ("dml", 0)),
    ],
)
def test_parse_device(text: str, parsed: tuple[str, int | None]) -> None:
    assert parse_device(text) == parsed


@pytest.mark.parametrize("text", ["gpu", "cuda:", "cuda:x", "cpu:1", "auto:0", "", "rocm"])
def test_parse_device_rejects_bad_text(text: str) -> None:
    with pytest.raises(InputError, match="use auto, cpu, cuda\\[:N\\] or dml\\[:N\\]"):
        parse_device(text)


def test_cpu_maps_to_the_cpu_provider_alone() -> None:
    choice = resolve_device("cpu")
    assert choice == DeviceChoice("cpu", 0)
    assert choice.providers() == [CPU]


def test_gpu_devices_carry_their_device_id() -> None:
    choice = resolve_device("cuda:1", available=[CUDA, CPU])
    assert choice.label == "cuda:1"
    assert choice.providers() == [(CUDA, {"device_id": "1"}), CPU]
    dml = resolve_device("dml", available=[DML, CPU])
    assert dml.providers() == [(DML, {"device_id": "0"}), CPU]


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        ([CUDA, DML, CPU], "cuda"),
        ([DML, CPU], "dml"),
        ([CPU], "cpu"),
        (["AzureExecutionProvider", CPU], "cpu"),
    ],
)
def test_auto_prefers_cuda_then_directml_then_cpu(available: list[str], expected: str) -> None:
    assert resolve_device("auto", available=available).kind == expected


def test_a_missing_provider_is_an_error_not_a_cpu_fallback() -> None:
    with pytest.raises(
        InputError,
        match=r"cuda:0 requested but this onnxruntime has no "
        r"CUDAExecutionProvider.*lipsync-studio\[cuda\]",
    ):
        resolve_device("cuda:0", available=[CPU])
    with pytest.raises(InputError, match=r"lipsync-studio\[directml\]"):
        resolve_device("dml", available=[CUDA, CPU])


def test_this_machines_onnxruntime() -> None:
    """Against the real onnxruntime: cuda works exactly when it offers CUDA; auto follows."""
    if CUDA in REAL:
        assert resolve_device("cuda").kind == "cuda"
    else:
        with pytest.raises(InputError, match="has no CUDAExecutionProvider"):
            resolve_device("cuda")
        with pytest.raises(InputError):
            SessionCache().get(Path(__file__), "cuda")
    expected = "cuda" if CUDA in REAL else "dml" if DML in REAL else "cpu"
    assert resolve_device("auto").kind == expected


def test_list_devices() -> None:
    assert [d.device for d in list_devices([CPU])] == ["cpu"]
    devices = list_devices([CUDA, DML, CPU])
    assert [(d.device, d.provider) for d in devices] == [
        ("cpu", CPU),
        ("cuda:0", CUDA),
        ("dml:0", DML),
    ]
    assert list_devices()[0].device == "cpu"  # the real one always has the CPU first


def test_session_cache_returns_the_same_session(tmp_path: Path) -> None:
    path = doubling_onnx(tmp_path / "double.onnx")
    cache = SessionCache()
    session = cache.get(path, "cpu")
    assert cache.get(path, "cpu") is session
    assert cache.get(str(path), " cpu") is session  # same file, same device: same key
    if resolve_device("auto").kind == "cpu":
        assert cache.get(path, "auto") is session  # auto resolves before the lookup
    assert len(cache) == 1
    assert session.get_providers()[0] == CPU
    (y,) = session.run(None, {"x": np.ones((3, 4), np.float32)})
    assert np.allclose(y, 2.0)


def test_session_cache_loads_a_replaced_file_afresh(tmp_path: Path) -> None:
    path = doubling_onnx(tmp_path / "m.onnx", factor=2.0)
    cache = SessionCache()
    first = cache.get(path, "cpu")
    doubling_onnx(tmp_path / "new.onnx", factor=3.0).replace(path)  # a re-import, in effect
    second = cache.get(path, "cpu")
    assert second is not first
    (y,) = second.run(None, {"x": np.ones((1, 4), np.float32)})
    assert np.allclose(y, 3.0)


def test_session_cache_creates_one_session_for_concurrent_callers(tmp_path: Path) -> None:
    path = doubling_onnx(tmp_path / "double.onnx")
    cache = SessionCache()
    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(lambda _: cache.get(path, "cpu"), range(8)))
    assert all(s is sessions[0] for s in sessions) and len(cache) == 1


def test_session_cache_errors_name_the_file(tmp_path: Path) -> None:
    cache = SessionCache()
    with pytest.raises(InputError, match="missing.onnx: model file not found"):
        cache.get(tmp_path / "missing.onnx", "cpu")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    with pytest.raises(InputError, match="junk.onnx: onnxruntime cannot load it on cpu"):
        cache.get(junk, "cpu")
