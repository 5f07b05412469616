"""Shared ONNX machinery for the neural families (lip-sync, face enhancer).

`OnnxRunner` binds a session to its family's `Contract` (models/contracts.py: through the
names recorded when the model was installed, else from the file itself), owns one
preallocated array per input that the family writes each batch into, and runs the session
batch by batch: plain `run` on CPU, IO binding on CUDA / DirectML. A file fixed to a batch
of 1 (or any fixed batch) is fed exactly that many rows, padded at the end.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from app.engine.errors import InputError, ModelOutputError
from app.engine.models.contracts import (
    MEL_SHAPE,
    Contract,
    FileTensor,
    TensorNames,
    bind_contract,
)

log = logging.getLogger(__name__)

# Sessions on these providers keep tensors on the device: IO binding skips a host
# round trip for the output and lets ORT copy the inputs in one go.
_IO_BINDING_DEVICES: dict[str, str] = {
    "CUDAExecutionProvider": "cuda",
    "DmlExecutionProvider": "dml",
}

# Crops per session run. CPU gains little past ~8 (bench/standin_throughput.py);
# a GPU wants bigger batches to fill its cores, DirectML a little less than CUDA
# (it shares memory with the desktop on integrated parts).
_DEFAULT_BATCH: dict[str, int] = {
    "cpu": 8,
    "cuda": 32,
    "tensorrt": 32,
    "rocm": 32,
    "migraphx": 32,
    "dml": 16,
    "coreml": 8,
    "openvino": 8,
}

_FLOAT_TYPES: dict[str, type[np.floating[Any]]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
}


def default_batch_size(provider: str) -> int:
    """Batch size for a provider, given as ORT's name ("CUDAExecutionProvider") or
    ours ("cuda", "dml", "directml", "cpu"). Unknown providers get the CPU value."""
    key = provider.lower().removesuffix("executionprovider")
    key = {"directml": "dml"}.get(key, key)
    return _DEFAULT_BATCH.get(key, _DEFAULT_BATCH["cpu"])


def session_label(session: ort.InferenceSession, fallback: str) -> str:
    """The model file's path for messages (ORT keeps it privately), else `fallback`."""
    path = getattr(session, "_model_path", None)
    return str(Path(path)) if path else fallback


class OnnxRunner:
    """Runs one family's session over batches, feeding preallocated input arrays.

    Usage: for each `(start, stop)` of `chunks(n)`, write rows `[0, stop-start)` of
    `inputs[name]` (unbatched inputs such as edtalk's weight are written once), then
    `run(stop - start)` returns the output rows as float32 (N, *output dims).
    The buffers are shared between calls: one thread at a time per runner.
    """

    def __init__(
        self,
        session: ort.InferenceSession,
        contract: Contract,
        *,
        batch_size: int,
        label: str,
        io_binding: bool | None = None,
        names: TensorNames | None = None,
    ) -> None:
        """`names`: the binding recorded when the model was installed; without it the
        session's own tensors are bound (a file given directly: tests, the bench)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        dims = {s.name: s.dims for s in (*contract.inputs, contract.output)}
        free = [name for name, d in dims.items() if not all(isinstance(x, int) for x in d)]
        if free:  # buffers need sizes: Contract.sized() fixes them
            raise ValueError(f"{contract.family}: free sizes in {free}; size the contract first")
        self.session = session
        self.contract = contract
        self.label = label
        self.binding = bind_contract(
            contract,
            [FileTensor.of(a) for a in session.get_inputs()],
            [FileTensor.of(a) for a in session.get_outputs()],
            label,
            names,
        )
        self._output = self.binding.outputs[contract.output.name]
        if self.binding.by == "shape":
            log.info(
                "%s: inputs bound by shape: %s",
                label,
                {k: v.name for k, v in self.binding.inputs.items()},
            )
        # A fixed batch is what the file accepts, whatever we were asked for.
        self.capacity = self.binding.fixed_batch or batch_size

        self.provider = session.get_providers()[0]
        device = _IO_BINDING_DEVICES.get(self.provider)
        self._use_io_binding = device is not None if io_binding is None else io_binding
        self._device = device or "cpu"
        options = session.get_provider_options().get(self.provider, {})
        self._device_id = int(options.get("device_id", 0) or 0)
        # Fixed-batch files need full buffers. With IO binding, one shape for every
        # run also keeps CUDA from re-tuning convolutions for each odd tail size.
        self._pad_tail = self.binding.fixed_batch is not None or self._use_io_binding

        # The big per-batch tensors, allocated once, in the file's float type.
        self.inputs: dict[str, np.ndarray] = {}
        for spec in contract.inputs:
            dtype = _FLOAT_TYPES[self.binding.inputs[spec.name].type]
            shape = ((self.capacity,) if spec.batched else ()) + tuple(map(int, spec.dims))
            self.inputs[spec.name] = np.zeros(shape, dtype=dtype)
        self._io: ort.IOBinding | None = None
        self._io_verified = False  # one IO-binding run succeeded

    @property
    def uses_io_binding(self) -> bool:
        return self._use_io_binding

    def chunks(self, n: int) -> Iterator[tuple[int, int]]:
        for start in range(0, n, self.capacity):
            yield start, min(start + self.capacity, n)

    def run(self, rows: int) -> np.ndarray:
        """Run on the first `rows` rows of the input buffers -> (rows, *out dims) float32."""
        if not 1 <= rows <= self.capacity:
            raise ValueError(f"rows must be in 1..{self.capacity}, got {rows}")
        fed = self.capacity if self._pad_tail else rows
        feeds = {
            self.binding.inputs[spec.name].name: (
                self.inputs[spec.name][:fed] if spec.batched else self.inputs[spec.name]
            )
            for spec in self.contract.inputs
        }
        if self._use_io_binding:
            result = self._run_io_binding(feeds)
        else:
            result = self.session.run([self._output.name], feeds)[0]
        want = (fed,) + self.contract.output.dims
        if result.shape != want:
            raise InputError(
                f"{self.label}: the model returned {result.shape}, expected {want} "
                f"({self.contract.output.describe()})"
            )
        result = result[:rows].astype(np.float32, copy=False)
        if not np.isfinite(result).all():
            # Cast to uint8 these would paint a black box on every frame, and exit 0.
            raise ModelOutputError(
                f"{self.label}: the model returned NaN or infinite values; the file may be "
                f"damaged (verify it: `lipsync-studio models verify`), or its float16 maths "
                f"overflowed on {self.provider} (try --device cpu or another model)"
            )
        return result

    def _run_io_binding(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        try:
            if self._io is None:
                self._io = self.session.io_binding()
            io = self._io
            # bind_cpu_input copies to the device when bound (IOBinding::BindInput),
            # so every batch binds again after its buffers were filled.
            for name, array in feeds.items():
                io.bind_cpu_input(name, array)
            io.bind_output(self._output.name, self._device, self._device_id)
            io.synchronize_inputs()
            self.session.run_with_iobinding(io)
            io.synchronize_outputs()
            result = np.asarray(io.copy_outputs_to_cpu()[0])
        except Exception:
            if self._io_verified:
                raise
            # First use failed (e.g. an ORT build whose OrtDevice lacks "dml"): plain
            # run still works on the same session, only with a host copy of the output.
            log.warning(
                "%s: IO binding failed on %s, using plain run",
                self.label,
                self.provider,
                exc_info=True,
            )
            self._use_io_binding = False
            return self.session.run([self._output.name], feeds)[0]
        self._io_verified = True
        return result


def to_uint8_hwc(result: np.ndarray, out: np.ndarray, *, reverse_channels: bool) -> None:
    """(n, 3, S, S) float 0..1 -> `out` (n, S, S, 3) uint8, rounded; channel order
    reversed for RGB models. Works in place on `result` (a fresh ORT output)."""
    if not result.flags.writeable:
        result = result.copy()
    # run() let only finite values through: no NaN reaches the uint8 cast.
    np.clip(result, 0.0, 1.0, out=result)
    result *= 255.0
    # Round, not truncate (FaceFusion truncates): an identity model then returns
    # the crop bit-exact, and the output is not biased half a level dark.
    np.rint(result, out=result)
    chw = result[:, ::-1] if reverse_channels else result
    out[...] = chw.transpose(0, 2, 3, 1)


def infer_batches(
    runner: OnnxRunner,
    n: int,
    fill: Callable[[int, int], None],
    out: np.ndarray,
    *,
    reverse_channels: bool,
) -> np.ndarray:
    """The shared batch loop: `fill(start, stop)` writes rows into `runner.inputs`,
    the result is written into `out[start:stop]` as uint8 HWC."""
    for start, stop in runner.chunks(n):
        fill(start, stop)
        to_uint8_hwc(runner.run(stop - start), out[start:stop], reverse_channels=reverse_channels)
    return out


def check_batch(crops: np.ndarray, mels: np.ndarray, size: int) -> int:
    """Shapes are the pipeline's job; a mismatch is a programming error."""
    if crops.dtype != np.uint8 or crops.ndim != 4 or crops.shape[1:] != (size, size, 3):
        raise ValueError(
            f"crops must be (N, {size}, {size}, 3) uint8, got {crops.shape} {crops.dtype}"
        )
    if mels.shape != (len(crops), *MEL_SHAPE):
        raise ValueError(f"mels must be ({len(crops)}, 80, 16), got {mels.shape}")
    return len(crops)


class OnnxLipSyncModel:
    """What every ONNX lip-sync family shares: a runner over its session, a batch size
    chosen for the session's provider, and the batch loop (each crop's mel chunk into
    `source`). Subclasses set `contract`, `template`, `crop_size`, `rgb` and
    `default_name`, and implement `_fill_target`."""

    contract: Contract
    default_name: str
    crop_size: int
    rgb: bool  # the model sees and draws RGB (the crops are BGR)

    def __init__(
        self,
        session: ort.InferenceSession,
        name: str | None = None,
        batch_size: int | None = None,
        *,
        model_path: str | Path | None = None,
        io_binding: bool | None = None,
        names: TensorNames | None = None,
    ) -> None:
        """`io_binding` None: on for CUDA/DirectML sessions (the bench compares both);
        `names`: the binding recorded at install (registry.InstalledModel.names)."""
        self.name = name or self.default_name
        self.batch_size = batch_size or default_batch_size(session.get_providers()[0])
        label = str(model_path) if model_path else session_label(session, self.name)
        self._runner = OnnxRunner(
            session,
            self.contract,
            batch_size=self.batch_size,
            label=label,
            io_binding=io_binding,
            names=names,
        )

    @property
    def runner(self) -> OnnxRunner:
        return self._runner

    def replica(self) -> OnnxLipSyncModel:
        """The same model on the same session with its own input buffers, for another
        thread to run batches with at the same time (model_workers.py)."""
        twin = copy.copy(self)
        twin._runner = OnnxRunner(
            self._runner.session,
            self.contract,
            batch_size=self.batch_size,
            label=self._runner.label,
            io_binding=self._runner.uses_io_binding,
            names=self._runner.binding.names(),
        )
        return twin

    def prepare(self, mels: np.ndarray) -> None:
        """Nothing to precompute: each frame sees only its own mel chunk."""

    def infer(self, crops: np.ndarray, mels: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 BGR crops and their (N, 80, 16) mel chunks -> the model's
        faces, (N, S, S, 3) uint8 BGR."""
        n = check_batch(crops, mels, self.crop_size)
        out = np.empty((n, self.crop_size, self.crop_size, 3), dtype=np.uint8)
        source = self._runner.inputs["source"]

        def fill(start: int, stop: int) -> None:
            source[: stop - start, 0] = mels[start:stop]
            self._fill_target(crops[start:stop])

        return infer_batches(self._runner, n, fill, out, reverse_channels=self.rgb)

    def _fill_target(self, crops: np.ndarray) -> None:
        """Write one batch of crops into rows [0, len(crops)) of the face input."""
        raise NotImplementedError
