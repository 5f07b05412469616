"""The ONNX lip-sync families (Wav2Lip, EDTalk) through stand-in models with the
real input/output contracts: what the engine feeds, how it reads results back,
binding by name or shape, batching, fixed-batch files, and the full-size network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from app.engine.errors import InputError, ModelOutputError
from app.engine.models.contracts import WAV2LIP
from app.engine.models.lipsync.base import LipSyncModel
from app.engine.models.lipsync.edtalk import EdTalkModel
from app.engine.models.lipsync.onnx_runner import OnnxRunner, default_batch_size, infer_batches
from app.engine.models.lipsync.wav2lip import Wav2LipModel
from tests.support import standins


def _session(path: Path, threads: int = 1) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _crops(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Crops that all differ (noise), so a reordering or a stale row shows."""
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _mels(n: int) -> np.ndarray:
    return np.random.default_rng(1).uniform(-4, 4, (n, 80, 16)).astype(np.float32)


class _CountingSession:
    """A session that records the batch size and feeds of each run."""

    def __init__(self, session: ort.InferenceSession) -> None:
        self._session = session
        self.feeds: list[dict[str, np.ndarray]] = []

    def run(self, names: Any, feeds: dict[str, np.ndarray]) -> Any:
        self.feeds.append(feeds)
        return self._session.run(names, feeds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def _save_graph(path: Path, inputs: list, outputs: list, nodes: list) -> Path:
    graph = helper.make_graph(nodes, "custom", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_wav2lip_identity_reproduces_the_crops(tmp_path):
    model = Wav2LipModel(_session(standins.build_wav2lip_identity(tmp_path / "id.onnx")))
    assert isinstance(model, LipSyncModel)
    assert (model.template, model.crop_size, model.name) == ("wav2lip", 96, "wav2lip_96")
    crops = _crops(5, 96)
    model.prepare(_mels(5))
    out = model.infer(crops, _mels(5), np.arange(5))
    assert out.dtype == np.uint8 and out.shape == crops.shape
    np.testing.assert_array_equal(out, crops)


def test_wav2lip_masks_the_lower_half_of_channels_0_to_2(tmp_path):
    path = standins.build_wav2lip_identity(tmp_path / "masked.onnx", half="masked")
    model = Wav2LipModel(_session(path))
    crops = _crops(3, 96)
    out = model.infer(crops, _mels(3), np.arange(3))
    np.testing.assert_array_equal(out[:, :48], crops[:, :48])
    assert not out[:, 48:].any()


def test_wav2lip_output_is_read_as_bgr(tmp_path):
    model = Wav2LipModel(_session(standins.build_wav2lip_solid(tmp_path / "red.onnx", (0, 0, 1))))
    out = model.infer(_crops(2, 96), _mels(2), np.arange(2))
    assert (out.reshape(-1, 3) == [0, 0, 255]).all()


def test_edtalk_sees_rgb_and_blue_comes_back_blue(tmp_path):
    model = EdTalkModel(_session(standins.build_edtalk_identity(tmp_path / "ed.onnx")))
    assert (model.template, model.crop_size) == ("ffhq", 256)
    blue = np.zeros((2, 256, 256, 3), np.uint8)
    blue[..., 0] = 255  # BGR
    out = model.infer(blue, _mels(2), np.arange(2))
    fed = model.runner.inputs["target"][:2]
    assert (fed[:, 2] == 1).all() and not fed[:, :2].any()  # the model got RGB
    np.testing.assert_array_equal(out, blue)
    crops = _crops(3, 256)
    np.testing.assert_array_equal(model.infer(crops, _mels(3), np.arange(3)), crops)


def test_edtalk_feeds_its_weight(tmp_path):
    spec = [
        helper.make_tensor_value_info("source", TensorProto.FLOAT, ["N", 1, 80, 16]),
        helper.make_tensor_value_info("target", TensorProto.FLOAT, ["N", 3, 256, 256]),
        helper.make_tensor_value_info("weight", TensorProto.FLOAT, [1]),
    ]
    out = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, 256, 256])]
    path = _save_graph(
        tmp_path / "w.onnx", spec, out, [helper.make_node("Mul", ["target", "weight"], ["output"])]
    )
    model = EdTalkModel(_session(path), weight=0.5)
    crops = np.full((2, 256, 256, 3), 200, np.uint8)
    assert (model.infer(crops, _mels(2), np.arange(2)) == 100).all()
    model.weight = 0.75  # 201 * 0.75 = 150.75: read back rounded, not truncated
    assert (model.infer(crops + 1, _mels(2), np.arange(2)) == 151).all()


def test_renamed_inputs_bind_by_shape(tmp_path):
    # A re-export that swapped the names: "target" is the mel, "source" the face.
    names = {"source": "target", "target": "source", "output": "y"}
    path = standins.build_wav2lip_identity(tmp_path / "swapped.onnx", names=names)
    model = Wav2LipModel(_session(path))
    assert model.runner.binding.by == "shape"
    assert model.runner.binding.inputs["source"].name == "target"
    crops = _crops(4, 96)
    np.testing.assert_array_equal(model.infer(crops, _mels(4), np.arange(4)), crops)

    renamed = standins.build_edtalk_identity(
        tmp_path / "ed.onnx", names={"source": "audio", "target": "img", "weight": "w"}
    )
    crops = _crops(2, 256)
    out = EdTalkModel(_session(renamed)).infer(crops, _mels(2), np.arange(2))
    np.testing.assert_array_equal(out, crops)


def test_a_file_with_another_contract_raises_input_error_naming_it(tmp_path):
    edtalk_file = standins.build_edtalk_identity(tmp_path / "edtalk_like.onnx")
    with pytest.raises(InputError, match="edtalk_like.onnx") as info:
        Wav2LipModel(_session(edtalk_file))
    assert "'target' is (N,3,256,256) float, expected (N,6,96,96) float" in str(info.value)
    assert "unexpected input 'weight'" in str(info.value)

    wav2lip_file = standins.build_wav2lip_identity(tmp_path / "w2l.onnx")
    with pytest.raises(InputError, match=r"w2l\.onnx.*no input named 'weight'"):
        EdTalkModel(_session(wav2lip_file))


def test_inputs_that_fit_in_two_orders_are_refused(tmp_path):
    spec = [
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", "c", "h", "w"])
        for n in ("a", "b")
    ]
    out = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", "c", "h", "w"])]
    path = _save_graph(
        tmp_path / "vague.onnx", spec, out, [helper.make_node("Add", ["a", "b"], ["y"])]
    )
    with pytest.raises(InputError, match="vague.onnx.*more than one order"):
        Wav2LipModel(_session(path))


def test_19_crops_in_batches_of_8_into_preallocated_buffers(tmp_path):
    session = _CountingSession(_session(standins.build_wav2lip_identity(tmp_path / "id.onnx")))
    model = Wav2LipModel(session, batch_size=8)  # type: ignore[arg-type]
    crops = _crops(19, 96)
    np.testing.assert_array_equal(model.infer(crops, _mels(19), np.arange(19)), crops)
    assert [f["target"].shape[0] for f in session.feeds] == [8, 8, 3]  # CPU: tail not padded
    buffers = model.runner.inputs
    for feeds in session.feeds:
        assert np.shares_memory(feeds["target"], buffers["target"])
        assert np.shares_memory(feeds["source"], buffers["source"])


def test_mels_reach_the_model_in_order(tmp_path):
    # Output = the mel chunk's first value everywhere: pairs each crop with its mel.
    spec = [
        helper.make_tensor_value_info("source", TensorProto.FLOAT, ["N", 1, 80, 16]),
        helper.make_tensor_value_info("target", TensorProto.FLOAT, ["N", 6, 96, 96]),
    ]
    out = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, 96, 96])]
    starts = helper.make_tensor("st", TensorProto.INT64, [4], [0, 0, 0, 0])
    ends = helper.make_tensor("en", TensorProto.INT64, [4], [2**62, 1, 1, 1])
    three = helper.make_tensor("three", TensorProto.INT64, [1], [3])
    axis1 = helper.make_tensor("axis1", TensorProto.INT64, [1], [1])
    zero = helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])
    nodes = [
        helper.make_node("Slice", ["source", "st", "en"], ["first"]),  # (N,1,1,1)
        helper.make_node("Slice", ["target", "zero_i", "three", "axis1"], ["t3"]),
        helper.make_node("Mul", ["t3", "z"], ["blank"]),  # (N,3,96,96) zeros
        helper.make_node("Add", ["blank", "first"], ["output"]),
    ]
    zero_i = helper.make_tensor("zero_i", TensorProto.INT64, [1], [0])
    graph = helper.make_graph(
        nodes, "mel", spec, out, initializer=[starts, ends, three, axis1, zero, zero_i]
    )
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model_proto.ir_version = 8
    onnx.save(model_proto, tmp_path / "mel.onnx")
    model = Wav2LipModel(_session(tmp_path / "mel.onnx"), batch_size=4)
    mels = np.zeros((10, 80, 16), np.float32)
    mels[:, 0, 0] = np.arange(10) / 255.0
    out = model.infer(_crops(10, 96), mels, np.arange(10))
    np.testing.assert_array_equal(out[:, 50, 50, 0], np.arange(10))


@pytest.mark.parametrize("fixed", [1, 4])
def test_fixed_batch_files_are_fed_exactly_their_batch(tmp_path, fixed):
    path = standins.build_wav2lip_identity(tmp_path / "fixed.onnx", batch=fixed)
    session = _CountingSession(_session(path))
    model = Wav2LipModel(session, batch_size=8)  # type: ignore[arg-type]
    assert model.runner.capacity == fixed
    crops = _crops(6, 96)
    np.testing.assert_array_equal(model.infer(crops, _mels(6), np.arange(6)), crops)
    assert {f["target"].shape[0] for f in session.feeds} == {fixed}
    assert len(session.feeds) == -(-6 // fixed)  # last batch padded, not dropped


def test_io_binding_path_runs_and_pads_the_tail(tmp_path):
    # The CUDA/DirectML code path, exercised on the CPU device.
    session = _session(standins.build_wav2lip_identity(tmp_path / "id.onnx"))
    runner = OnnxRunner(session, WAV2LIP, batch_size=8, label="id", io_binding=True)
    assert runner.uses_io_binding
    crops = _crops(11, 96)
    target = runner.inputs["target"]

    def fill(start: int, stop: int) -> None:
        target[: stop - start, 3:] = crops[start:stop].transpose(0, 3, 1, 2) / np.float32(255)

    out = infer_batches(runner, 11, fill, np.empty_like(crops), reverse_channels=False)
    np.testing.assert_array_equal(out, crops)
    assert runner.uses_io_binding  # it worked; no fallback to plain run


def test_nan_output_fails_naming_the_model(tmp_path):
    """Issue 11 item 7: cast to uint8, NaN painted a black box on every frame, exit 0."""
    spec = [
        helper.make_tensor_value_info("source", TensorProto.FLOAT, ["N", 1, 80, 16]),
        helper.make_tensor_value_info("target", TensorProto.FLOAT, ["N", 6, 96, 96]),
    ]
    out = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, 96, 96])]
    consts = [
        helper.make_tensor("c0", TensorProto.INT64, [1], [0]),
        helper.make_tensor("c3", TensorProto.INT64, [1], [3]),
        helper.make_tensor("ax", TensorProto.INT64, [1], [1]),
        helper.make_tensor("z", TensorProto.FLOAT, [], [0.0]),
    ]
    nodes = [
        helper.make_node("Slice", ["target", "c0", "c3", "ax"], ["t3"]),
        helper.make_node("Mul", ["t3", "z"], ["zeros"]),
        helper.make_node("Div", ["zeros", "z"], ["output"]),  # 0/0: NaN everywhere
    ]
    graph = helper.make_graph(nodes, "nan", spec, out, initializer=consts)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    onnx.save(proto, tmp_path / "nan.onnx")
    model = Wav2LipModel(_session(tmp_path / "nan.onnx"), model_path=tmp_path / "nan.onnx")
    with pytest.raises(ModelOutputError, match=r"nan\.onnx: the model returned NaN"):
        model.infer(_crops(2, 96), _mels(2), np.arange(2))


def test_default_batch_sizes():
    assert default_batch_size("CPUExecutionProvider") == default_batch_size("cpu") == 8
    assert default_batch_size("CUDAExecutionProvider") == default_batch_size("cuda") == 32
    assert default_batch_size("DmlExecutionProvider") == default_batch_size("directml") == 16
    assert default_batch_size("SomethingNewExecutionProvider") == 8


def test_empty_batch_and_bad_shapes(tmp_path):
    model = Wav2LipModel(_session(standins.build_wav2lip_identity(tmp_path / "id.onnx")))
    empty = model.infer(
        np.zeros((0, 96, 96, 3), np.uint8), np.zeros((0, 80, 16), np.float32), np.arange(0)
    )
    assert empty.shape == (0, 96, 96, 3)
    with pytest.raises(ValueError, match="crops"):
        model.infer(np.zeros((1, 64, 64, 3), np.uint8), _mels(1), np.arange(1))
    with pytest.raises(ValueError, match="mels"):
        model.infer(_crops(2, 96), _mels(1), np.arange(2))


def test_full_size_wav2lip_builds_and_runs_one_frame(tmp_path):
    cost = standins.wav2lip_cost()
    assert abs(cost.params - 36.3e6) < 0.5e6
    assert abs(cost.flops - 7.9e9) < 0.2e9
    path = standins.build_wav2lip_fullsize(tmp_path / "w2l.onnx", seed=0)
    assert standins.initializer_count(path) == cost.params
    session = _session(path, threads=2)
    target = np.random.default_rng(0).uniform(0, 1, (1, 6, 96, 96)).astype(np.float32)
    target[:, :3, 48:] = 0
    out = session.run(None, {"source": _mels(1)[:, None], "target": target})[0]
    assert out.shape == (1, 3, 96, 96)
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert out.std() > 0.02  # activations neither exploded (saturated) nor vanished
