"""Stand-in ONNX models with the neural families' exact contracts.

Weights never live in the repository and tests have no network, so tests and
bench/ build their own models here with onnx.helper and numpy (no torch):
- tiny, exact ones (identity, masked half, solid colour) to check what the
  engine feeds and how it reads the result back;
- `build_wav2lip_fullsize`: the real Wav2Lip network, layer by layer, with random
  weights: same parameter count and FLOPs as the published wav2lip_96.onnx, so its
  speed and memory stand for the real file's.

`onnx` is a dev dependency: the app itself never imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from app.engine.models.contracts import EDTALK, WAV2LIP, Contract, TensorSpec
from app.engine.models.enhance import runner as enhancer

# Opset 17 / IR 8: loads in every onnxruntime the app supports (>= 1.16).
OPSET = 17
IR_VERSION = 8

Batch = int | str  # "N" for a dynamic batch dim, or a fixed size
Nodes = tuple[list[onnx.NodeProto], list[onnx.TensorProto]]


# --- tiny graph helpers -------------------------------------------------------------


def _value_info(spec: TensorSpec, name: str, batch: Batch) -> onnx.ValueInfoProto:
    shape: list[int | str] = ([batch] if spec.batched else []) + list(spec.dims)
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name)


def _save(
    path: str | Path,
    contract: Contract,
    nodes: Sequence[onnx.NodeProto],
    initializers: Iterable[onnx.TensorProto],
    *,
    names: Mapping[str, str] | None,
    batch: Batch,
    graph_name: str,
) -> Path:
    """Write a graph whose inputs/output follow `contract`, with the tensor names the
    nodes use (the contract's) renamed through `names` for re-export tests."""
    rename = dict(names or {})
    out_name = contract.output.name
    nodes = list(nodes)
    if rename:
        for node in nodes:
            node.input[:] = [rename.get(x, x) for x in node.input]
            node.output[:] = [rename.get(x, x) for x in node.output]
    graph = helper.make_graph(
        nodes,
        graph_name,
        [_value_info(s, rename.get(s.name, s.name), batch) for s in contract.inputs],
        [_value_info(contract.output, rename.get(out_name, out_name), batch)],
        initializer=list(initializers),
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="lipsync-standins"
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    path = Path(path)
    onnx.save(model, path)
    return path


def _zero_from(inputs: Sequence[str], out: str) -> Nodes:
    """A tensor `out` that is exactly 0 but depends on `inputs`, added to a stand-in's
    output so its unused inputs (mel, weight) stay real, fed inputs of the graph."""
    nodes, consts = [], [_const("zero_f", np.array(0.0, np.float32))]
    terms = []
    for i, name in enumerate(inputs):
        # ReduceMax over everything but the batch dim keeps (N,1,1,1) or (1,).
        rank_axes = {"source": [1, 2, 3], "weight": [0]}.get(name, [1, 2, 3])
        nodes.append(helper.make_node("ReduceMax", [name], [f"zr{i}"], axes=rank_axes, keepdims=1))
        nodes.append(helper.make_node("Mul", [f"zr{i}", "zero_f"], [f"zm{i}"]))
        terms.append(f"zm{i}")
    acc = terms[0]
    for j, t in enumerate(terms[1:]):
        nodes.append(helper.make_node("Add", [acc, t], [f"za{j}"]))
        acc = f"za{j}"
    nodes.append(helper.make_node("Identity", [acc], [out]))
    return nodes, consts


def _slice_channels(src: str, start: int, stop: int, out: str) -> Nodes:
    consts = [
        _const(f"{out}_starts", np.array([start], np.int64)),
        _const(f"{out}_ends", np.array([stop], np.int64)),
        _const(f"{out}_axes", np.array([1], np.int64)),
    ]
    node = helper.make_node("Slice", [src, f"{out}_starts", f"{out}_ends", f"{out}_axes"], [out])
    return [node], consts


# --- tiny stand-ins -----------------------------------------------------------------


def build_wav2lip_identity(
    path: str | Path,
    *,
    half: str = "reference",
    names: Mapping[str, str] | None = None,
    batch: Batch = "N",
) -> Path:
    """Wav2Lip contract; output = one half of `target`: "reference" (channels 3-5,
    the unmasked crop: a render reproduces the source) or "masked" (channels 0-2:
    shows what the engine zeroed)."""
    start = {"reference": 3, "masked": 0}[half]
    sl, consts = _slice_channels("target", start, start + 3, "picked")
    zn, zc = _zero_from(["source"], "zero")
    nodes = [*sl, *zn, helper.make_node("Add", ["picked", "zero"], ["output"])]
    return _save(
        path,
        WAV2LIP,
        nodes,
        consts + zc,
        names=names,
        batch=batch,
        graph_name=f"wav2lip_{half}",
    )


def build_wav2lip_solid(
    path: str | Path, bgr: tuple[float, float, float] = (0, 0, 1), *, batch: Batch = "N"
) -> Path:
    """Wav2Lip contract; every output pixel is `bgr` (0..1, the output's BGR order)."""
    sl, consts = _slice_channels("target", 0, 3, "picked")
    zn, zc = _zero_from(["source"], "zero")
    colour = _const("colour", np.array(bgr, np.float32).reshape(1, 3, 1, 1))
    nodes = [
        *sl,
        *zn,
        helper.make_node("Mul", ["picked", "zero_f"], ["blank"]),  # (N,3,96,96) of zeros
        helper.make_node("Add", ["blank", "colour"], ["painted"]),
        helper.make_node("Add", ["painted", "zero"], ["output"]),
    ]
    return _save(
        path,
        WAV2LIP,
        nodes,
        [*consts, *zc, colour],
        names=None,
        batch=batch,
        graph_name="wav2lip_solid",
    )


def build_edtalk_identity(
    path: str | Path, *, names: Mapping[str, str] | None = None, batch: Batch = "N"
) -> Path:
    """EDTalk contract; output = target (RGB in, RGB out), plus an exact zero that
    depends on `source` and `weight` so both stay fed inputs."""
    zn, zc = _zero_from(["source", "weight"], "zero")
    nodes = [*zn, helper.make_node("Add", ["target", "zero"], ["output"])]
    return _save(path, EDTALK, nodes, zc, names=names, batch=batch, graph_name="edtalk_identity")


def build_face_enhancer(
    path: str | Path,
    *,
    size: int = 512,
    brighten: float | tuple[float, float, float] = 0.0,
    batch: Batch = "N",
) -> Path:
    """Face-enhancer contract (FaceFusion's: `input` (N, 3, S, S) RGB in [-1, 1] -> same):
    output = input + `brighten` (in that [-1, 1] scale: 0.2 is about +25 levels; a tuple
    is per R, G, B channel), so the engine's scaling and channel order show; 0 is an
    identity."""
    shift = np.broadcast_to(np.asarray(brighten, np.float32), (3,)).reshape(1, 3, 1, 1)
    offset = _const("offset", np.ascontiguousarray(shift))
    nodes = [helper.make_node("Add", ["input", "offset"], ["output"])]
    return _save(
        path,
        enhancer.contract(size),
        nodes,
        [offset],
        names=None,
        batch=batch,
        graph_name=f"face_enhancer_{size}",
    )


def build_face_enhancer_convnet(
    path: str | Path, *, size: int = 512, widths: Sequence[int] = (32, 64, 128, 256), seed: int = 0
) -> tuple[Path, int]:
    """Face-enhancer contract over a real amount of work: an encoder-decoder of 3x3
    convolutions (stride 2 down through `widths`, nearest-upsample and conv back up)
    with random weights, output = input + a small residual. Returns (path, FLOPs per
    frame): a stand-in for timing the stage, not GFPGAN's architecture or cost."""
    rng = np.random.default_rng(seed)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    flops = 0

    def conv(x: str, cin: int, cout: int, hw: int, stride: int, relu: bool) -> str:
        nonlocal flops
        k = len(inits)
        w = rng.normal(0, (2.0 / (9 * cin)) ** 0.5, (cout, cin, 3, 3)).astype(np.float32)
        inits.extend([_const(f"w{k}", w), _const(f"b{k}", np.zeros(cout, np.float32))])
        out = f"c{k}"
        nodes.append(
            helper.make_node(
                "Conv", [x, f"w{k}", f"b{k}"], [out], pads=[1, 1, 1, 1], strides=[stride] * 2
            )
        )
        flops += 2 * 9 * cin * cout * (hw // stride) ** 2
        if relu:
            nodes.append(helper.make_node("Relu", [out], [out + "r"]))
            out += "r"
        return out

    x, c, hw = "input", 3, size
    for width in widths:
        x, c, hw = conv(x, c, width, hw, 2, True), width, hw // 2
    scales = _const("up_scales", np.array([1, 1, 2, 2], np.float32))
    inits.append(scales)
    for width in [*reversed(widths[:-1]), 16]:
        up = f"u{len(nodes)}"
        nodes.append(helper.make_node("Resize", [x, "", "up_scales"], [up], mode="nearest"))
        hw *= 2
        x, c = conv(up, c, width, hw, 1, True), width
    x = conv(x, c, 3, hw, 1, False)
    inits.append(_const("residual_gain", np.array(0.01, np.float32)))
    nodes.append(helper.make_node("Mul", [x, "residual_gain"], ["residual"]))
    nodes.append(helper.make_node("Add", ["input", "residual"], ["output"]))
    saved = _save(
        path,
        enhancer.contract(size),
        nodes,
        inits,
        names=None,
        batch="N",
        graph_name=f"face_enhancer_convnet_{size}",
    )
    return saved, flops


# --- the full-size Wav2Lip ----------------------------------------------------------
# Rudrabha/Wav2Lip models/wav2lip.py (class Wav2Lip) and models/conv.py: every
# conv.Conv2d is nn.Conv2d + BatchNorm2d (+ x if residual) + ReLU; conv.Conv2dTranspose
# is nn.ConvTranspose2d + BatchNorm2d + ReLU. BatchNorm at inference is a per-channel
# scale and shift, folded here into the conv's weight and bias (as an export does).


@dataclass(frozen=True)
class _Conv:
    cin: int
    cout: int
    k: int
    stride: int | tuple[int, int]
    pad: int
    residual: bool = False
    act: str = "relu"  # "sigmoid" for the last, plain nn.Conv2d + nn.Sigmoid


@dataclass(frozen=True)
class _ConvT:
    cin: int
    cout: int
    k: int
    stride: int
    pad: int
    out_pad: int


_Layer = _Conv | _ConvT
_Shaped = tuple[str, int, int, int]  # tensor name, channels, height, width


def _res(c: int) -> _Conv:
    return _Conv(c, c, 3, 1, 1, residual=True)


_C = _Conv
_T = _ConvT

# fmt: off
# face_encoder_blocks: 96 -> 48 -> 24 -> 12 -> 6 -> 3 -> 1; each block's output is
# kept for the decoder's skip connections.
FACE_ENCODER: tuple[tuple[_Conv, ...], ...] = (
    (_C(6, 16, 7, 1, 3),),
    (_C(16, 32, 3, 2, 1), _res(32), _res(32)),
    (_C(32, 64, 3, 2, 1), _res(64), _res(64), _res(64)),
    (_C(64, 128, 3, 2, 1), _res(128), _res(128)),
    (_C(128, 256, 3, 2, 1), _res(256), _res(256)),
    (_C(256, 512, 3, 2, 1), _res(512)),
    (_C(512, 512, 3, 1, 0), _C(512, 512, 1, 1, 0)),
)
# audio_encoder: (1, 80, 16) -> (512, 1, 1).
AUDIO_ENCODER: tuple[_Conv, ...] = (
    _C(1, 32, 3, 1, 1), _res(32), _res(32),
    _C(32, 64, 3, (3, 1), 1), _res(64), _res(64),
    _C(64, 128, 3, 3, 1), _res(128), _res(128),
    _C(128, 256, 3, (3, 2), 1), _res(256),
    _C(256, 512, 3, 1, 0), _C(512, 512, 1, 1, 0),
)
# face_decoder_blocks: each block's output is concatenated with the matching
# encoder feature (channels add up: 512+512, 512+512, 512+256, 384+128, ...).
FACE_DECODER: tuple[tuple[_Layer, ...], ...] = (
    (_C(512, 512, 1, 1, 0),),
    (_T(1024, 512, 3, 1, 0, 0), _res(512)),
    (_T(1024, 512, 3, 2, 1, 1), _res(512), _res(512)),
    (_T(768, 384, 3, 2, 1, 1), _res(384), _res(384)),
    (_T(512, 256, 3, 2, 1, 1), _res(256), _res(256)),
    (_T(320, 128, 3, 2, 1, 1), _res(128), _res(128)),
    (_T(160, 64, 3, 2, 1, 1), _res(64), _res(64)),
)
OUTPUT_BLOCK: tuple[_Conv, ...] = (_C(80, 32, 3, 1, 1), _C(32, 3, 1, 1, 0, act="sigmoid"))
# fmt: on


def _pair(v: int | tuple[int, int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def _out_hw(layer: _Layer, h: int, w: int) -> tuple[int, int]:
    if isinstance(layer, _ConvT):
        s = layer.stride
        return (
            (h - 1) * s - 2 * layer.pad + layer.k + layer.out_pad,
            (w - 1) * s - 2 * layer.pad + layer.k + layer.out_pad,
        )
    sh, sw = _pair(layer.stride)
    return (h + 2 * layer.pad - layer.k) // sh + 1, (w + 2 * layer.pad - layer.k) // sw + 1


def _walk(visit: _Visitor) -> None:
    """Walk Wav2Lip.forward with shapes, checking every layer's cin against the
    tensor it gets (so a transcription slip fails loudly)."""
    c, h, w = 1, 80, 16
    a = visit.input("source")
    for layer in AUDIO_ENCODER:
        a, c, h, w = visit.layer(layer, a, c, h, w)
    audio = (a, c, h, w)

    x, c, h, w = visit.input("target"), 6, 96, 96
    feats = []
    for block in FACE_ENCODER:
        for layer in block:
            x, c, h, w = visit.layer(layer, x, c, h, w)
        feats.append((x, c, h, w))

    x, c, h, w = audio
    for block in FACE_DECODER:
        for layer in block:
            x, c, h, w = visit.layer(layer, x, c, h, w)
        f, fc, fh, fw = feats.pop()
        if (fh, fw) != (h, w):
            raise AssertionError(f"skip {fh}x{fw} does not meet decoder {h}x{w}")
        x, c = visit.concat(x, f), c + fc
    for layer in OUTPUT_BLOCK:
        x, c, h, w = visit.layer(layer, x, c, h, w)
    if (c, h, w) != (3, 96, 96):
        raise AssertionError(f"Wav2Lip output {(c, h, w)}, expected (3, 96, 96)")
    visit.output(x)


class _Visitor:
    def input(self, name: str) -> str:
        return name

    def layer(self, layer: _Layer, x: str, c: int, h: int, w: int) -> _Shaped:
        if layer.cin != c:
            raise AssertionError(f"{layer} gets {c} channels")
        oh, ow = _out_hw(layer, h, w)
        return x, layer.cout, oh, ow

    def concat(self, x: str, skip: str) -> str:
        return x

    def output(self, x: str) -> None:
        pass


@dataclass
class Wav2LipCost:
    params: int  # weights + biases, BatchNorm folded
    macs: int  # multiply-accumulates per frame (convs and transposed convs)

    @property
    def flops(self) -> int:
        return 2 * self.macs


class _Counter(_Visitor):
    def __init__(self) -> None:
        self.params = 0
        self.macs = 0

    def layer(self, layer: _Layer, x: str, c: int, h: int, w: int) -> _Shaped:
        x, cout, oh, ow = super().layer(layer, x, c, h, w)
        taps = layer.cin * layer.k * layer.k
        self.params += taps * layer.cout + layer.cout
        # A conv does cin*k*k MACs per output value; a transposed conv scatters
        # each input value over cout*k*k outputs.
        self.macs += taps * cout * oh * ow if isinstance(layer, _Conv) else taps * cout * h * w
        return x, cout, oh, ow


def wav2lip_cost() -> Wav2LipCost:
    """Parameters and per-frame MACs/FLOPs of Wav2Lip, from the layer shapes."""
    counter = _Counter()
    _walk(counter)
    return Wav2LipCost(counter.params, counter.macs)


def wav2lip_frame_flops() -> int:
    """FLOPs (2 x MACs) for one 96x96 frame through Wav2Lip."""
    return wav2lip_cost().flops


class _Builder(_Visitor):
    """Emits ONNX nodes for each layer with random, He-scaled weights."""

    # Residual branches start small so relu(conv(x) + x) keeps the activation scale
    # through the 20-odd residual blocks instead of doubling it at each.
    RESIDUAL_GAIN = 0.35

    def __init__(self, rng: np.random.Generator, dtype: type[np.floating]) -> None:
        self.rng = rng
        self.dtype = dtype
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def _name(self, stem: str) -> str:
        self.n += 1
        return f"{stem}_{self.n}"

    def input(self, name: str) -> str:
        if self.dtype == np.float32:
            return name
        cast = self._name(f"{name}_fp16")
        self.nodes.append(helper.make_node("Cast", [name], [cast], to=TensorProto.FLOAT16))
        return cast

    def _weights(self, shape: tuple[int, ...], std: float, stem: str) -> str:
        name = self._name(stem)
        values = self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        self.inits.append(numpy_helper.from_array(values.astype(self.dtype), name))
        return name

    def layer(self, layer: _Layer, x: str, c: int, h: int, w: int) -> _Shaped:
        _, cout, oh, ow = super().layer(layer, x, c, h, w)
        k = layer.k
        bias = self._weights((cout,), 0.01, "b")
        y = self._name("conv")
        if isinstance(layer, _ConvT):
            # Each output sees ~cin*k*k/stride^2 taps: that is its fan-in.
            fan_in = layer.cin * k * k / (layer.stride**2)
            weight = self._weights((layer.cin, cout, k, k), np.sqrt(2.0 / fan_in), "wt")
            self.nodes.append(
                helper.make_node(
                    "ConvTranspose",
                    [x, weight, bias],
                    [y],
                    kernel_shape=[k, k],
                    strides=[layer.stride] * 2,
                    pads=[layer.pad] * 4,
                    output_padding=[layer.out_pad] * 2,
                )
            )
            act_in = y
        else:
            fan_in = layer.cin * k * k
            if layer.act == "sigmoid":
                std = np.sqrt(1.0 / fan_in)  # unit-scale logits: the output spans 0..1
            else:
                std = np.sqrt(2.0 / fan_in) * (self.RESIDUAL_GAIN if layer.residual else 1.0)
            weight = self._weights((cout, layer.cin, k, k), std, "w")
            self.nodes.append(
                helper.make_node(
                    "Conv",
                    [x, weight, bias],
                    [y],
                    kernel_shape=[k, k],
                    strides=list(_pair(layer.stride)),
                    pads=[layer.pad] * 4,
                )
            )
            act_in = y
            if layer.residual:
                act_in = self._name("res")
                self.nodes.append(helper.make_node("Add", [y, x], [act_in]))
        out = self._name("act")
        op = "Sigmoid" if isinstance(layer, _Conv) and layer.act == "sigmoid" else "Relu"
        self.nodes.append(helper.make_node(op, [act_in], [out]))
        return out, cout, oh, ow

    def concat(self, x: str, skip: str) -> str:
        out = self._name("cat")
        self.nodes.append(helper.make_node("Concat", [x, skip], [out], axis=1))
        return out

    def output(self, x: str) -> None:
        if self.dtype == np.float32:
            self.nodes.append(helper.make_node("Identity", [x], ["output"]))
        else:
            self.nodes.append(helper.make_node("Cast", [x], ["output"], to=TensorProto.FLOAT))


def build_wav2lip_fullsize(path: str | Path, seed: int = 0, fp16: bool = False) -> Path:
    """The Wav2Lip network (36.3 M parameters, ~7.9 GFLOP per frame — see
    `wav2lip_cost`) with random weights and the wav2lip contract (dynamic batch).
    fp16: weights and activations in float16 with Casts in the graph, so the file's
    inputs and output stay float32 like the fp32 one."""
    builder = _Builder(np.random.default_rng(seed), np.float16 if fp16 else np.float32)
    _walk(builder)
    return _save(
        path,
        WAV2LIP,
        builder.nodes,
        builder.inits,
        names=None,
        batch="N",
        graph_name="wav2lip_fullsize_fp16" if fp16 else "wav2lip_fullsize",
    )


def quantize_int8(src: str | Path, dst: str | Path) -> Path:
    """Dynamic int8 quantisation of an fp32 model (weights uint8, activations
    quantised at run time) with onnxruntime.quantization."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(Path(src), Path(dst), weight_type=QuantType.QUInt8)
    return Path(dst)


def initializer_count(path: str | Path) -> int:
    """Number of values in a model file's initializers (its parameter count)."""
    model = onnx.load(str(path))
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


if __name__ == "__main__":  # python -m tests.support.standins: print the cost
    cost = wav2lip_cost()
    print(
        f"Wav2Lip: {cost.params / 1e6:.2f} M parameters, "
        f"{cost.macs / 1e9:.2f} GMAC = {cost.flops / 1e9:.2f} GFLOP per frame"
    )
