"""Model contracts: what each family's .onnx file takes and gives, and the one binder.

A family's `Contract` names its tensors as the published files have them (FaceFusion's
exports) with their per-item shapes. A re-exported file may have renamed them, so a file is
*bound* to its family's contract: contract name -> the file's tensor. The binding is made
once, when a model is downloaded or imported (`bind_file`), and recorded beside the file
(`TensorNames`, see records.py); the runner binds its session through the recorded names
and never guesses again. Files given straight to a runner (tests, the bench) are bound the
same way, from their own tensors.

Inputs bind by name when every name matches, else by shape: the one order in which the
file's inputs fit (ties go to the order that keeps the most names). Each output binds by
name when it fits, else to the one file output that fits; spare outputs are harmless, a
spare input is not (it could never be fed). float16 files are accepted (the runner feeds
them float16); a file fixed to one batch size is fed exactly that many rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from app.engine.errors import InputError

Dim = int | str  # int: a fixed size; str: a free size, named for messages
FLOAT_TYPES = ("tensor(float)", "tensor(float16)")  # what the runner can feed and read
MEL_SHAPE = (80, 16)  # one mel chunk: 80 bands x 16 columns (0.2 s), both lip-sync families


@dataclass(frozen=True)
class TensorSpec:
    """One tensor of a contract: `dims` per item, the batch dim excluded when `batched`."""

    name: str
    dims: tuple[Dim, ...]
    batched: bool = True

    @property
    def shape(self) -> tuple[Dim, ...]:
        return (("N",) if self.batched else ()) + self.dims

    def shape_str(self) -> str:
        return f"({','.join(map(str, self.shape))}) float"

    def describe(self) -> str:
        return f"'{self.name}' {self.shape_str()}"


@dataclass(frozen=True)
class Contract:
    family: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]

    @property
    def output(self) -> TensorSpec:
        """The first output: the only one of the families a runner runs."""
        return self.outputs[0]

    def sized(self, **sizes: int) -> Contract:
        """This contract with its free sizes fixed, e.g. `sized(size=512)`, for a runner
        that allocates its buffers."""

        def fix(spec: TensorSpec) -> TensorSpec:
            dims = tuple(sizes.get(d, d) if isinstance(d, str) else d for d in spec.dims)
            return replace(spec, dims=dims)

        return replace(
            self,
            inputs=tuple(fix(s) for s in self.inputs),
            outputs=tuple(fix(s) for s in self.outputs),
        )

    def describe(self) -> str:
        ins = ", ".join(s.describe() for s in self.inputs)
        outs = ", ".join(s.describe() for s in self.outputs)
        return f"inputs {ins}; output{'s' if len(self.outputs) > 1 else ''} {outs}"


# --------------------------------------------------------------------------- families
# As FaceFusion's modules feed the published files (lipsync/wav2lip.py, lipsync/edtalk.py,
# enhance/runner.py say what goes into each tensor).

WAV2LIP = Contract(
    "wav2lip",
    inputs=(TensorSpec("source", (1, *MEL_SHAPE)), TensorSpec("target", (6, 96, 96))),
    outputs=(TensorSpec("output", (3, 96, 96)),),
)
EDTALK = Contract(
    "edtalk",
    inputs=(
        TensorSpec("source", (1, *MEL_SHAPE)),
        TensorSpec("target", (3, 256, 256)),
        TensorSpec("weight", (1,), batched=False),
    ),
    outputs=(TensorSpec("output", (3, 256, 256)),),
)
FACE_ENHANCER = Contract(
    "face_enhancer",
    inputs=(TensorSpec("input", (3, "size", "size")),),
    outputs=(TensorSpec("output", (3, "size", "size")),),
)
# YuNet, run by OpenCV's FaceDetectorYN: one image in, per-stride scores, boxes, landmarks out.
DETECTOR = Contract(
    "detector",
    inputs=(TensorSpec("input", (3, "height", "width")),),
    outputs=tuple(
        TensorSpec(f"{kind}_{stride}", ("anchors", width))
        for kind, width in (("cls", 1), ("obj", 1), ("bbox", 4), ("kps", 10))
        for stride in (8, 16, 32)
    ),
)
FAMILIES: dict[str, Contract] = {c.family: c for c in (DETECTOR, WAV2LIP, FACE_ENHANCER, EDTALK)}


# --------------------------------------------------------------------------- binding


@dataclass(frozen=True)
class FileTensor:
    """An input or output as the .onnx file declares it."""

    name: str
    shape: tuple[int | str | None, ...]  # int fixed, str symbolic, None unknown
    type: str  # ORT's type string, e.g. "tensor(float)"

    @classmethod
    def of(cls, arg: Any) -> FileTensor:  # ort.NodeArg
        return cls(arg.name, tuple(arg.shape), arg.type)

    def shape_str(self) -> str:
        shape = ",".join("?" if d is None else str(d) for d in self.shape)
        return f"({shape}) {self.type.removeprefix('tensor(').removesuffix(')')}"

    def describe(self) -> str:
        return f"'{self.name}' {self.shape_str()}"


@dataclass(frozen=True)
class TensorNames:
    """A binding as recorded beside an installed file: contract name -> the file's name."""

    inputs: Mapping[str, str]
    outputs: Mapping[str, str]

    @classmethod
    def identity(cls, contract: Contract) -> TensorNames:
        """The published files' names: the contract's own."""
        return cls(
            {s.name: s.name for s in contract.inputs}, {s.name: s.name for s in contract.outputs}
        )


@dataclass(frozen=True)
class Binding:
    """Contract name -> the file's tensor, and the file's fixed batch."""

    inputs: dict[str, FileTensor]
    outputs: dict[str, FileTensor]
    fixed_batch: int | None  # None: the batch dim is dynamic
    by: str  # "name", "shape" or "record": how the inputs were matched (for the log)

    def names(self) -> TensorNames:
        return TensorNames(
            {k: t.name for k, t in self.inputs.items()},
            {k: t.name for k, t in self.outputs.items()},
        )


def fits(spec: TensorSpec, ft: FileTensor) -> bool:
    """Whether the file's tensor can take (or give) what the contract says."""
    if ft.type not in FLOAT_TYPES or len(ft.shape) != len(spec.shape):
        return False
    if spec.batched and isinstance(ft.shape[0], int) and ft.shape[0] < 1:
        return False
    dims = ft.shape[1:] if spec.batched else ft.shape
    # A free dim on either side accepts anything; fixed ones must be equal.
    return all(
        not isinstance(have, int) or not isinstance(want, int) or have == want
        for have, want in zip(dims, spec.dims)
    )


def bind_contract(
    contract: Contract,
    file_inputs: Sequence[FileTensor],
    file_outputs: Sequence[FileTensor],
    label: str,
    recorded: TensorNames | None = None,
) -> Binding:
    """Bind a file's tensors to `contract`: through `recorded` (the names bound at install)
    when given, else by name or shape (see the module doc). Raises InputError, one line
    naming `label` (the file) and what does not fit."""
    if recorded is not None:
        inputs = _bind_recorded(contract.inputs, file_inputs, recorded.inputs, "input", label)
        outputs = _bind_recorded(contract.outputs, file_outputs, recorded.outputs, "output", label)
        how = "record"
    else:
        bound, problems, how = _bind_inputs(contract, file_inputs)
        outputs, out_problems = _bind_outputs(contract.outputs, file_outputs)
        problems += out_problems
        if bound is None or problems:
            raise InputError(
                f"{label}: not a {contract.family} model: {'; '.join(problems)}. "
                f"Expected {contract.describe()}; the file has "
                f"{_describe_file(file_inputs, file_outputs)}"
            )
        inputs = bound
    return Binding(inputs, outputs, _fixed_batch(contract, inputs, outputs, label), how)


def _bind_inputs(
    contract: Contract, file_inputs: Sequence[FileTensor]
) -> tuple[dict[str, FileTensor] | None, list[str], str]:
    """(binding or None, problems, "name" | "shape")."""
    by_name = {ft.name: ft for ft in file_inputs}
    problems = []
    for spec in contract.inputs:
        ft = by_name.get(spec.name)
        if ft is None:
            problems.append(f"no input named '{spec.name}'")
        elif not fits(spec, ft):
            problems.append(f"input '{ft.name}' is {ft.shape_str()}, expected {spec.shape_str()}")
    wanted = {s.name for s in contract.inputs}
    problems += [f"unexpected input {ft.describe()}" for ft in file_inputs if ft.name not in wanted]
    if not problems:
        return {spec.name: by_name[spec.name] for spec in contract.inputs}, [], "name"
    if len(file_inputs) != len(contract.inputs):
        return None, problems, "name"

    def kept(order: Sequence[FileTensor]) -> int:
        return sum(s.name == ft.name for s, ft in zip(contract.inputs, order))

    orders = [
        order
        for order in itertools.permutations(file_inputs)
        if all(fits(s, ft) for s, ft in zip(contract.inputs, order))
    ]
    if len(orders) > 1:  # e.g. all dims free: prefer the most names kept
        best = max(kept(order) for order in orders)
        orders = [order for order in orders if kept(order) == best]
    if len(orders) == 1:
        return {s.name: ft for s, ft in zip(contract.inputs, orders[0])}, [], "shape"
    if orders:
        return None, ["the inputs fit in more than one order"], "shape"
    return None, [*problems, "and the inputs do not fit by shape either"], "shape"


def _bind_outputs(
    specs: Sequence[TensorSpec], file_outputs: Sequence[FileTensor]
) -> tuple[dict[str, FileTensor], list[str]]:
    free = {ft.name: ft for ft in file_outputs}
    bound: dict[str, FileTensor] = {}
    for spec in specs:  # by name first
        if spec.name in free and fits(spec, free[spec.name]):
            bound[spec.name] = free.pop(spec.name)
    pending = [s for s in specs if s.name not in bound]
    settled = True
    while pending and settled:  # the unambiguous ones next; that may settle the rest
        settled = False
        for spec in list(pending):
            candidates = [ft for ft in free.values() if fits(spec, ft)]
            if len(candidates) == 1:
                bound[spec.name] = free.pop(candidates[0].name)
                pending.remove(spec)
                settled = True
    problems = []
    for spec in pending:
        alike = [ft.describe() for ft in free.values() if fits(spec, ft)]
        what = f"more than one output ({', '.join(alike)})" if alike else "no output"
        problems.append(f"{what} fits {spec.describe()}")
    ordered = {s.name: bound[s.name] for s in specs if s.name in bound}
    return ordered, problems


def _bind_recorded(
    specs: Sequence[TensorSpec],
    have: Sequence[FileTensor],
    names: Mapping[str, str],
    kind: str,
    label: str,
) -> dict[str, FileTensor]:
    by_name = {ft.name: ft for ft in have}
    bound = {}
    for spec in specs:
        ft = by_name.get(names.get(spec.name, ""))
        if ft is None or not fits(spec, ft):
            # The file passed its checksum, so its record is from another version of the app.
            raise InputError(
                f"{label}: its install record binds {kind} {spec.describe()} to "
                f"'{names.get(spec.name, '?')}', which the file does not have as such; "
                "import the file again (`lipsync-studio models import FILE --as NAME`)"
            )
        bound[spec.name] = ft
    return bound


def _fixed_batch(
    contract: Contract,
    inputs: Mapping[str, FileTensor],
    outputs: Mapping[str, FileTensor],
    label: str,
) -> int | None:
    tensors = [(s, inputs[s.name]) for s in contract.inputs]
    tensors += [(s, outputs[s.name]) for s in contract.outputs if s.name in outputs]
    batches = {ft.shape[0] for s, ft in tensors if s.batched and isinstance(ft.shape[0], int)}
    if len(batches) > 1:
        raise InputError(
            f"{label}: inconsistent fixed batch sizes {sorted(batches)} in "
            f"{_describe_file(list(inputs.values()), list(outputs.values()))}"
        )
    return int(batches.pop()) if batches else None


def _describe_file(file_inputs: Sequence[FileTensor], file_outputs: Sequence[FileTensor]) -> str:
    ins = ", ".join(ft.describe() for ft in file_inputs) or "none"
    outs = ", ".join(ft.describe() for ft in file_outputs) or "none"
    return f"inputs {ins}; outputs {outs}"


# --------------------------------------------------------------------------- files


def read_tensors(path: Path, label: str) -> tuple[list[FileTensor], list[FileTensor]]:
    """The inputs and outputs an ONNX file declares, read by loading it (never running it)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises several private types for unreadable files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{label}: not a loadable ONNX model ({first_line})") from None
    return (
        [FileTensor.of(a) for a in session.get_inputs()],
        [FileTensor.of(a) for a in session.get_outputs()],
    )


def bind_file(path: Path, contract: Contract, label: str | None = None) -> Binding:
    """Load `path` (shown as `label` in messages) and bind it to `contract`."""
    shown = label or str(path)
    return bind_contract(contract, *read_tensors(path, shown), shown)
