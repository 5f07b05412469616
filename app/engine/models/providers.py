"""ONNX Runtime execution providers: a device string -> providers, and cached sessions.

A device is `auto`, `cpu`, `cuda[:N]` or `dml[:N]` (N: GPU index, default 0). We ask
`onnxruntime.get_available_providers()` before asking for one: `auto` takes CUDA, then
DirectML, then the CPU; an explicit device whose provider this onnxruntime build lacks is an
InputError, never a quiet run on the CPU (a 20x slower render is not what was asked for).
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from app.engine.errors import InputError
from app.engine.threads import thread_plan

if TYPE_CHECKING:  # onnxruntime is imported lazily: `--help` and the GUI start faster
    import onnxruntime

log = logging.getLogger(__name__)

Device = str  # "auto" | "cpu" | "cuda[:N]" | "dml[:N]", as typed by the user or settings
ProviderKind = Literal["cpu", "cuda", "dml"]
PROVIDER_NAMES: dict[ProviderKind, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "dml": "DmlExecutionProvider",
}
AUTO_ORDER: tuple[ProviderKind, ...] = ("cuda", "dml", "cpu")
_INSTALL_HINT: dict[ProviderKind, str] = {
    "cuda": "install lipsync-studio[cuda] (onnxruntime-gpu, in place of onnxruntime)",
    "dml": "install lipsync-studio[directml] (onnxruntime-directml, Windows only)",
    "cpu": "reinstall onnxruntime",
}
_DEVICE_RE = re.compile(r"^(auto|cpu|cuda|dml)(?::(\d+))?$")


@dataclass(frozen=True)
class DeviceChoice:
    """A concrete device: what a session is created for and cached under."""

    kind: ProviderKind
    device_id: int = 0

    @property
    def label(self) -> str:
        return "cpu" if self.kind == "cpu" else f"{self.kind}:{self.device_id}"

    @property
    def provider(self) -> str:
        return PROVIDER_NAMES[self.kind]

    def providers(self) -> list[str | tuple[str, dict[str, str]]]:
        """The `providers=` list for InferenceSession. The CPU comes last on a GPU so that the
        odd operator the GPU provider lacks still runs; the session is checked afterwards to
        have really started on the GPU (see SessionCache)."""
        if self.kind == "cpu":
            return [PROVIDER_NAMES["cpu"]]
        return [(self.provider, {"device_id": str(self.device_id)}), PROVIDER_NAMES["cpu"]]


@dataclass(frozen=True)
class DeviceInfo:
    """One line of the settings dialog's device list."""

    device: str  # what to put in RenderSettings.device
    label: str  # what to show
    provider: str  # ONNX Runtime's name


def parse_device(device: Device) -> tuple[ProviderKind | Literal["auto"], int | None]:
    """Syntax only: 'cuda:1' -> ('cuda', 1); 'cpu' -> ('cpu', None). Bad text: InputError."""
    match = _DEVICE_RE.match(device.strip().lower())
    if not match or (match.group(1) in ("auto", "cpu") and match.group(2) is not None):
        raise InputError(f"bad device '{device}': use auto, cpu, cuda[:N] or dml[:N]")
    kind = cast("ProviderKind | Literal['auto']", match.group(1))  # the regex allows no other
    return kind, int(match.group(2)) if match.group(2) is not None else None


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def resolve_device(device: Device, available: Sequence[str] | None = None) -> DeviceChoice:
    """The device to use for `device`, given what this onnxruntime offers (asked if None)."""
    kind, index = parse_device(device)
    offered = list(available) if available is not None else available_providers()
    if kind == "auto":
        best = next(k for k in AUTO_ORDER if k == "cpu" or PROVIDER_NAMES[k] in offered)
        return DeviceChoice(best, 0)
    if PROVIDER_NAMES[kind] not in offered:
        raise InputError(
            f"{device.strip()} requested but this onnxruntime has no {PROVIDER_NAMES[kind]} "
            f"(it offers {', '.join(offered) or 'nothing'}); {_INSTALL_HINT[kind]}, "
            f"or choose --device cpu"
        )
    return DeviceChoice(kind, index or 0)


def list_devices(available: Sequence[str] | None = None) -> list[DeviceInfo]:
    """CPU plus each GPU provider this onnxruntime reports, best first after the CPU.

    onnxruntime does not count GPUs before a session exists, so each GPU provider is listed
    once, as device 0; `cuda:1` etc. can still be typed.
    """
    offered = list(available) if available is not None else available_providers()
    devices = [DeviceInfo("cpu", "CPU", PROVIDER_NAMES["cpu"])]
    names = {"cuda": "CUDA GPU 0 (NVIDIA)", "dml": "DirectML GPU 0"}
    for kind in ("cuda", "dml"):
        if PROVIDER_NAMES[kind] in offered:
            devices.append(DeviceInfo(f"{kind}:0", names[kind], PROVIDER_NAMES[kind]))
    return devices


def cpu_threads() -> int:
    """Intra-op threads of a CPU session: every usable core (threads.py says why)."""
    return thread_plan("cpu").model_intra_op


def session_options(choice: DeviceChoice) -> onnxruntime.SessionOptions:
    import onnxruntime as ort

    plan = thread_plan("cpu" if choice.kind == "cpu" else "gpu")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # ORT's warnings are for its developers, not our users
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1  # our graphs are chains: parallel branches gain nothing
    options.intra_op_num_threads = plan.model_intra_op
    # Idle workers sleep instead of spinning: decode, faces and encode share the cores.
    spin = "1" if plan.model_spinning else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    if choice.kind == "dml":
        options.enable_mem_pattern = False  # DirectML needs this and sequential execution
    return options


@functools.cache
def _preload_cuda_libraries() -> None:
    """Load CUDA and cuDNN from the nvidia-* wheels (onnxruntime-gpu[cuda,cudnn]) when
    they are there, so no LD_LIBRARY_PATH/PATH edit is needed (onnxruntime >= 1.21; a
    system-wide CUDA install is found as before). Once per process (SessionCache's lock
    serialises the calls); never fatal."""
    import onnxruntime as ort

    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        preload()
    except Exception as exc:  # noqa: BLE001 - the session then reports what is missing
        log.info("onnxruntime.preload_dlls: %s", exc)


class SessionCache:
    """InferenceSessions kept per (model file, provider, device id): loading a model onto a
    GPU takes seconds, and every job of a batch wants the same one. Thread-safe."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[Any, ...], onnxruntime.InferenceSession] = {}
        self._lock = threading.Lock()

    def get(self, path: Path | str, device: Device = "auto") -> onnxruntime.InferenceSession:
        choice = resolve_device(device)
        path = Path(path).resolve()
        try:
            st = path.stat()
        except FileNotFoundError:
            raise InputError(f"{path}: model file not found") from None
        # The file's identity is part of the key: a re-imported model (os.replace: a new
        # inode) gets a new session, not the one of the file it replaced.
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns, choice.provider, choice.device_id)
        with self._lock:  # one creation at a time: two threads never load the same model twice
            session = self._sessions.get(key)
            if session is None:
                session = self._create(path, choice)
                self._sessions[key] = session
            return session

    def clear(self) -> None:
        with self._lock:
            self._sessions.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    @staticmethod
    def _create(path: Path, choice: DeviceChoice) -> onnxruntime.InferenceSession:
        import onnxruntime as ort

        log.info("loading %s on %s", path.name, choice.label)
        if choice.kind == "cuda":
            _preload_cuda_libraries()
        try:
            session = ort.InferenceSession(
                str(path), sess_options=session_options(choice), providers=choice.providers()
            )
        except Exception as exc:  # ORT raises private exception types
            raise InputError(
                f"{path}: onnxruntime cannot load it on {choice.label}: "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
            ) from None
        # ORT quietly drops a provider that fails to start (missing CUDA/cuDNN DLLs, no GPU)
        # and runs everything on the CPU: catch that instead of rendering 20x slower.
        if choice.provider not in session.get_providers():
            raise InputError(
                f"{choice.label} requested but onnxruntime could not start "
                f"{choice.provider} for {path.name} (check the GPU driver and the CUDA/cuDNN "
                f"or DirectML runtime), or choose --device cpu"
            )
        return session
