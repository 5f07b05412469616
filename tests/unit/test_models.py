"""Model registry: downloads from a local HTTP server, verification, import, CLI."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import zlib
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.engine import paths
from app.engine.errors import DownloadCancelled, InputError, ModelNotInstalled
from app.engine.models import registry as models
from app.engine.models.download import (
    MIRROR_ENV,
    ChecksumMismatch,
    DownloadError,
    download,
)
from app.engine.models.importing import import_model
from tests.support import standins

W2L = "wav2lip_96"


# --------------------------------------------------------------------------- local server


class ModelServer(ThreadingHTTPServer):
    """Serves `files` on 127.0.0.1 with Range support; can misbehave on request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.drop_after: dict[str, int] = {}  # path -> bytes sent before hanging up, once
        self.ignore_range = False
        self.fail_once: dict[str, int] = {}  # path -> HTTP status to answer once
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.errors: list[BaseException] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        self.errors.append(sys.exc_info()[1])  # a client that hung up early: expected, quiet


class _Handler(BaseHTTPRequestHandler):
    server: ModelServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        srv, wanted = self.server, self.headers.get("Range")
        srv.requests.append((self.path, wanted))
        body = srv.files.get(self.path)
        if body is None or self.path in srv.fail_once:
            self.send_error(srv.fail_once.pop(self.path, 404))
            return
        start = 0
        if wanted and not srv.ignore_range:
            start = int(re.fullmatch(r"bytes=(\d+)-", wanted).group(1))  # type: ignore[union-attr]
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        cut = srv.drop_after.pop(self.path, None)
        self.wfile.write(payload if cut is None else payload[:cut])  # then the socket closes

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ModelServer]:
    srv = ModelServer()
    srv.files["/wav2lip_96.onnx"] = PAYLOAD
    srv.files["/wav2lip_96.hash"] = (PAYLOAD_CRC + "\n").encode()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    yield srv
    srv.shutdown()
    thread.join()
    srv.server_close()


@pytest.fixture
def dead_url() -> str:
    """A 127.0.0.1 URL nobody listens on: connection refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(autouse=True)
def no_mirror_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)


def fetch(name: str, srv: ModelServer | str, **kwargs: object) -> Path:
    base = srv.url if isinstance(srv, ModelServer) else srv
    kwargs.setdefault("mirrors", [base])
    return download(name, retries=kwargs.pop("retries", 3), backoff=0, timeout=5, **kwargs)  # type: ignore[arg-type]


def file_requests(srv: ModelServer, path: str = "/wav2lip_96.onnx") -> list[str | None]:
    return [rng for p, rng in srv.requests if p == path]


# --------------------------------------------------------------------------- tiny ONNX models


def lipsync_model(
    *,
    audio: str = "source",
    picture: str = "target",
    weight: str | None = None,
    out: str = "output",
    audio_shape: Sequence[int | str] = ("N", 1, 80, 16),
    picture_shape: Sequence[int | str] = ("N", 6, 96, 96),
    out_shape: Sequence[int | str] = ("N", 3, 96, 96),
    pad: int = 0,
) -> bytes:
    """A real, runnable ONNX graph with a lip-sync model's interface:
    out = picture[:, :3] + mean(audio) (+ 0 * mean(pad)) (* weight).
    `pad` random float32 weights make the file big enough to span several download chunks."""
    from onnx import TensorProto, checker, helper, numpy_helper

    f = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info(audio, f, list(audio_shape)),
        helper.make_tensor_value_info(picture, f, list(picture_shape)),
    ]
    inits = [
        helper.make_tensor(n, TensorProto.INT64, [1], [v])
        for n, v in (("s0", 0), ("s3", 3), ("ax1", 1))
    ]
    nodes = [
        helper.make_node("Slice", [picture, "s0", "s3", "ax1"], ["pic3"]),
        helper.make_node("ReduceMean", [audio], ["level"], axes=[1, 2, 3], keepdims=1),
    ]
    if pad:
        rng = np.random.default_rng(7)
        inits += [
            numpy_helper.from_array(rng.standard_normal(pad).astype(np.float32), "pad"),
            helper.make_tensor("zero", f, [1], [0.0]),
        ]
        nodes += [
            helper.make_node("ReduceMean", ["pad"], ["pad_mean"], axes=[0], keepdims=1),
            helper.make_node("Mul", ["pad_mean", "zero"], ["nothing"]),
            helper.make_node("Add", ["pic3", "nothing"], ["pic3_"]),
        ]
        nodes[0].output[0] = "pic3_in"
        nodes[-1].input[0] = "pic3_in"
        nodes[-1].output[0] = "pic3"
    if weight is None:
        nodes.append(helper.make_node("Add", ["pic3", "level"], [out]))
    else:
        inputs.append(helper.make_tensor_value_info(weight, f, [1]))
        nodes += [
            helper.make_node("Add", ["pic3", "level"], ["sum"]),
            helper.make_node("Mul", ["sum", weight], [out]),
        ]
    graph = helper.make_graph(
        nodes,
        "tiny_lipsync",
        inputs,
        [helper.make_tensor_value_info(out, f, list(out_shape))],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    checker.check_model(model)
    return model.SerializeToString()


def lipsync_onnx(path: Path, **kwargs: object) -> Path:
    path.write_bytes(lipsync_model(**kwargs))  # type: ignore[arg-type]
    return path


# What the server publishes as wav2lip_96: a working wav2lip-shaped model over two chunks long.
PAYLOAD = lipsync_model(pad=150_000, out="mouth")  # its output name: not the contract's
PAYLOAD_CRC = format(zlib.crc32(PAYLOAD), "08x")


# --------------------------------------------------------------------------- manifest


def test_manifest_holds_the_models_with_facefusion_urls_and_licences() -> None:
    reg = models.load_registry()
    assert reg.names() == (
        "yunet_2026may",
        "wav2lip_96",
        "wav2lip_gan_96",
        "edtalk_256",
        "gfpgan_1.4",
        "restoreformer_plus_plus",
        "gpen_bfr_256",
        "gpen_bfr_512",
    )
    yunet = reg.get("yunet_2026may")
    assert (yunet.family, yunet.licence, yunet.size) == ("detector", "MIT", 229738)
    assert yunet.sha256 == "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"
    w2l = reg.get("wav2lip_gan_96")
    assert w2l.non_commercial and w2l.sha256 is None
    assert w2l.sources() == [
        (
            "https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0/"
            "wav2lip_gan_96.onnx",
            "https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0/"
            "wav2lip_gan_96.hash",
        ),
        (
            "https://huggingface.co/facefusion/models-3.0.0/resolve/main/wav2lip_gan_96.onnx",
            "https://huggingface.co/facefusion/models-3.0.0/resolve/main/wav2lip_gan_96.hash",
        ),
    ]
    edtalk = reg.get("edtalk_256")
    assert "models-3.3.0/edtalk_256.onnx" in edtalk.urls[0] and edtalk.licence == "Apache-2.0"
    assert [(t.name, t.shape) for t in edtalk.contract.inputs] == [
        ("source", ("N", 1, 80, 16)),
        ("target", ("N", 3, 256, 256)),
        ("weight", (1,)),
    ]
    assert [t.shape for t in w2l.contract.inputs] == [("N", 1, 80, 16), ("N", 6, 96, 96)]
    with pytest.raises(InputError, match="unknown model 'nope'"):
        reg.get("nope")


# --------------------------------------------------------------------------- download


def test_download_verifies_crc32_then_installs(server: ModelServer) -> None:
    seen: list[tuple[int, int | None]] = []
    path = fetch(W2L, server, progress=lambda done, total: seen.append((done, total)))
    assert path == paths.models_dir() / "wav2lip_96.onnx"
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert not path.with_name("wav2lip_96.onnx.part").exists()
    assert [p for p, _ in server.requests] == ["/wav2lip_96.hash", "/wav2lip_96.onnx"]
    assert models.status(W2L) == "installed" and models.verify(W2L)
    installed = models.resolve(W2L)
    assert installed.input_names == {"source": "source", "target": "target"}
    assert installed.output_names == {"output": "mouth"}  # read from the file, bound by shape
    # Installed: a second pull does not touch the network.
    fetch(W2L, server)
    assert len(server.requests) == 2


def test_download_resumes_after_the_server_hangs_up(server: ModelServer) -> None:
    server.drop_after["/wav2lip_96.onnx"] = 100_000
    path = fetch(W2L, server)
    assert path.read_bytes() == PAYLOAD
    assert file_requests(server) == [None, "bytes=100000-"]


def test_a_200_reply_to_a_range_request_restarts_from_zero(server: ModelServer) -> None:
    part = paths.models_dir() / "wav2lip_96.onnx.part"
    part.write_bytes(b"stale bytes from some other file")
    server.ignore_range = True
    path = fetch(W2L, server)
    assert path.read_bytes() == PAYLOAD
    assert file_requests(server) == [f"bytes={len(b'stale bytes from some other file')}-"]


def test_a_complete_part_is_verified_without_downloading_again(server: ModelServer) -> None:
    (paths.models_dir() / "wav2lip_96.onnx.part").write_bytes(PAYLOAD)
    assert fetch(W2L, server).read_bytes() == PAYLOAD
    assert file_requests(server) == [f"bytes={len(PAYLOAD)}-"]  # answered 416: nothing left


def test_checksum_mismatch_leaves_nothing_behind(server: ModelServer) -> None:
    server.files["/wav2lip_96.hash"] = b"deadbeef"
    with pytest.raises(ChecksumMismatch, match="wav2lip_96.*deleted") as info:
        fetch(W2L, server)
    assert "CRC32" in str(info.value) and "models import" in str(info.value)
    assert sorted(os.listdir(paths.models_dir())) == []
    assert models.status(W2L) == "missing"


def test_a_published_file_that_does_not_fit_the_contract_is_not_installed(
    server: ModelServer,
) -> None:
    wrong = lipsync_model(picture_shape=("N", 3, 96, 96))
    server.files["/wav2lip_96.onnx"] = wrong
    server.files["/wav2lip_96.hash"] = format(zlib.crc32(wrong), "08x").encode()
    with pytest.raises(DownloadError, match="passed its checksum but does not fit"):
        fetch(W2L, server)
    assert os.listdir(paths.models_dir()) == []


def test_cancel_keeps_the_part_and_a_later_pull_resumes(server: ModelServer) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int | None) -> None:
        if done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        fetch(W2L, server, progress=progress, cancel=cancel)
    part = paths.models_dir() / "wav2lip_96.onnx.part"
    kept = part.stat().st_size
    assert 0 < kept < len(PAYLOAD)
    assert models.status(W2L) == "missing"
    assert fetch(W2L, server).read_bytes() == PAYLOAD
    assert file_requests(server)[-1] == f"bytes={kept}-"


def test_unreachable_server_says_how_to_import_by_hand(dead_url: str) -> None:
    with pytest.raises(DownloadError) as info:
        fetch(W2L, dead_url, retries=1)
    message = str(info.value)
    assert f"{dead_url}wav2lip_96" in message  # names the URL to fetch by hand
    assert "lipsync-studio models import FILE --as wav2lip_96" in message
    assert models.status(W2L) == "missing"


def test_a_server_error_is_retried_on_the_same_url(server: ModelServer) -> None:
    server.fail_once["/wav2lip_96.onnx"] = 503
    assert fetch(W2L, server, retries=1).read_bytes() == PAYLOAD
    assert file_requests(server) == [None, None]


def test_the_mirror_is_tried_after_the_primary_fails(server: ModelServer, dead_url: str) -> None:
    path = fetch(W2L, dead_url, mirrors=[dead_url, server.url], retries=1)
    assert path.read_bytes() == PAYLOAD


def test_a_404_moves_on_to_the_mirror_without_retrying(server: ModelServer) -> None:
    other = ModelServer()  # serves nothing: 404 for everything
    thread = threading.Thread(target=other.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        fetch(W2L, other, mirrors=[other.url, server.url], retries=3)
    finally:
        other.shutdown()
        thread.join()
        other.server_close()
    assert [p for p, _ in other.requests] == ["/wav2lip_96.hash"]  # once: 404 is final
    assert models.status(W2L) == "installed"


def test_mirror_environment_variable_replaces_the_manifest_urls(
    server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIRROR_ENV, server.url)
    assert download(W2L, backoff=0).read_bytes() == PAYLOAD


def test_yunet_ships_with_the_app_and_is_hashed_not_recorded(yunet_path: Path) -> None:
    shipped = paths.resources_dir() / "models" / "face_detection_yunet_2026may.onnx"
    assert os.listdir(paths.models_dir()) == []  # an empty data folder
    assert models.find_detector_model() == shipped
    assert shipped.read_bytes() == yunet_path.read_bytes()
    assert models.status("yunet_2026may") == "installed" and models.verify("yunet_2026may")
    assert not shipped.with_name(shipped.name + ".json").exists()  # the app's folder: untouched
    licence = shipped.with_name("face_detection_yunet_2026may.LICENSE.txt").read_text("utf-8")
    assert "MIT License" in licence and "Permission is hereby granted" in licence


def test_a_damaged_shipped_yunet_is_corrupt_not_used(
    without_shipped_models: Path, yunet_path: Path
) -> None:
    shipped = without_shipped_models / "models" / "face_detection_yunet_2026may.onnx"
    data = bytearray(yunet_path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shipped.write_bytes(bytes(data))
    assert models.status("yunet_2026may") == "corrupt"
    assert models.find_detector_model() is None


def test_sha256_model_download_and_detector_lookup(
    server: ModelServer, yunet_path: Path, without_shipped_models: Path
) -> None:
    assert models.find_detector_model() is None
    server.files["/face_detection_yunet_2026may.onnx"] = yunet_path.read_bytes()
    path = fetch("yunet_2026may", server)
    assert models.find_detector_model() == path
    assert path.read_bytes() == yunet_path.read_bytes()


def test_the_users_yunet_wins_over_the_shipped_one(yunet_path: Path) -> None:
    installed = import_model(yunet_path)  # recognised by its sha256
    assert installed.path == paths.models_dir() / "face_detection_yunet_2026may.onnx"
    assert models.find_detector_model() == installed.path


def test_sha256_mismatch_is_rejected(server: ModelServer, without_shipped_models: Path) -> None:
    server.files["/face_detection_yunet_2026may.onnx"] = b"not yunet"
    with pytest.raises(ChecksumMismatch, match="sha256"):
        fetch("yunet_2026may", server)
    assert os.listdir(paths.models_dir()) == []


# --------------------------------------------------------------------------- status


def test_status_missing_installed_corrupt_and_pull_repairs(server: ModelServer) -> None:
    assert models.status(W2L) == "missing"
    path = fetch(W2L, server)
    assert models.status(W2L) == "installed"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    assert models.status(W2L) == "corrupt"
    assert not models.verify(W2L)
    with pytest.raises(ModelNotInstalled, match="fails its checksum.*models pull wav2lip_96"):
        models.resolve(W2L)
    fetch(W2L, server)  # a pull deletes the corrupt file and fetches it again
    assert path.read_bytes() == PAYLOAD and models.status(W2L) == "installed"


def test_status_trusts_an_old_record_and_verify_rehashes(server: ModelServer) -> None:
    path = fetch(W2L, server)
    old = path.stat().st_mtime_ns - 10 * models.RACY_NS
    os.utime(path, ns=(old, old))
    assert models.status(W2L) == "installed"  # re-hashed once, record refreshed
    data = bytearray(path.read_bytes())
    data[5] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(old, old))  # same size, same mtime: the cheap check cannot tell
    assert models.status(W2L) == "installed"
    assert models.verify(W2L) is False
    assert models.status(W2L) == "corrupt"  # verify's finding sticks


def test_a_crc32_model_dropped_in_by_hand_is_unverified() -> None:
    (paths.models_dir() / "wav2lip_96.onnx").write_bytes(PAYLOAD)
    assert models.status(W2L) == "corrupt"
    assert [m.name for m in models.installed_models()] == ["yunet_2026may"]  # shipped


def test_resolve_missing_model_says_how_to_get_it() -> None:
    with pytest.raises(ModelNotInstalled) as info:
        models.resolve(W2L)
    message = str(info.value)
    assert "lipsync-studio models pull wav2lip_96" in message
    assert (
        "https://github.com/facefusion/facefusion-assets/releases/download/models-3.0.0/"
        "wav2lip_96.onnx" in message
    )
    assert "lipsync-studio models import FILE --as wav2lip_96" in message
    with pytest.raises(InputError, match="unknown model"):
        models.resolve("wav2lip_97")


def test_delete_removes_file_record_and_part(server: ModelServer) -> None:
    path = fetch(W2L, server)
    path.with_name(path.name + ".part").write_bytes(b"x")
    models.delete(W2L)
    assert os.listdir(paths.models_dir()) == []
    with pytest.raises(ModelNotInstalled):
        models.delete(W2L)


# --------------------------------------------------------------------------- import


def test_import_registry_model_by_contract(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "w2l.onnx")
    installed = import_model(src, as_name=W2L)
    assert installed.path == paths.models_dir() / "wav2lip_96.onnx"
    assert installed.input_names == {"source": "source", "target": "target"}
    assert models.status(W2L) == "installed" and models.verify(W2L)
    assert [m.name for m in models.installed_models()] == ["yunet_2026may", W2L]
    assert src.exists()  # imported by copy: the user's file stays


def test_import_reexported_file_binds_inputs_by_shape(tmp_path: Path) -> None:
    from app.engine.models.providers import SessionCache

    src = lipsync_onnx(tmp_path / "renamed.onnx", audio="mel", picture="face", out="y")
    installed = import_model(src, as_name="wav2lip_gan_96")
    assert installed.input_names == {"source": "mel", "target": "face"}
    assert installed.output_names == {"output": "y"}
    assert models.resolve("wav2lip_gan_96").input_names == installed.input_names
    # The binding is right: feeding by it runs the file.
    session = SessionCache().get(installed.path, "cpu")
    feeds = {
        installed.input_names["source"]: np.ones((2, 1, 80, 16), np.float32),
        installed.input_names["target"]: np.zeros((2, 6, 96, 96), np.float32),
    }
    (out,) = session.run([installed.output_names["output"]], feeds)
    assert out.shape == (2, 3, 96, 96) and np.allclose(out, 1.0)


def test_the_runner_uses_the_binding_recorded_at_import(tmp_path: Path) -> None:
    from app.engine.models.lipsync.loader import load_model
    from app.engine.models.lipsync.wav2lip import Wav2LipModel

    # A re-export that swapped the input names: only the shapes tell which is which.
    swapped = {"source": "target", "target": "source", "output": "y"}
    src = standins.build_wav2lip_identity(tmp_path / "swapped.onnx", names=swapped)
    installed = import_model(src, as_name="swapped", family="wav2lip")
    assert installed.names.inputs == {"source": "target", "target": "source"}
    assert installed.names.outputs == {"output": "y"}

    model = load_model("swapped", "cpu")
    assert isinstance(model, Wav2LipModel)
    assert model.runner.binding.by == "record"
    assert model.runner.binding.names() == installed.names
    crops = np.random.default_rng(3).integers(0, 256, (3, 96, 96, 3), dtype=np.uint8)
    mels = np.zeros((3, 80, 16), np.float32)
    np.testing.assert_array_equal(model.infer(crops, mels, np.arange(3)), crops)

    # A record naming tensors the file does not have is refused, not guessed around.
    record_file = installed.path.with_name(installed.path.name + ".json")
    record = json.loads(record_file.read_text())
    record["input_names"] = {"source": "mel", "target": "face"}
    record_file.write_text(json.dumps(record))
    with pytest.raises(InputError, match=r"swapped\.onnx: its install record binds input 'source'"):
        load_model("swapped", "cpu")


def test_a_file_that_fits_no_family_is_refused_at_import_in_one_line(
    run_cli, tmp_path: Path
) -> None:
    src = standins.build_face_enhancer(tmp_path / "enhancer.onnx", size=96)
    for family in ("wav2lip", "edtalk"):
        code, out, err = run_cli("models", "import", str(src), "--as", "mine", "--family", family)
        assert code == 2 and out == ""
        (line,) = err.splitlines()
        assert str(src) in line and f"not a {family} model" in line
        assert "no input named 'source'" in line and "unexpected input 'input'" in line
    assert "mine" not in models.load_registry().names()
    assert os.listdir(paths.models_dir()) == []


def test_import_edtalk_contract(tmp_path: Path) -> None:
    src = lipsync_onnx(
        tmp_path / "ed.onnx",
        weight="weight",
        picture_shape=("N", 3, 256, 256),
        out_shape=("N", 3, 256, 256),
    )
    assert import_model(src, as_name="edtalk_256").family == "edtalk"
    with pytest.raises(InputError, match=r"ed\.onnx: not a wav2lip model: input 'target' is"):
        import_model(src, as_name=W2L)


def test_import_rejects_a_wrong_contract_naming_file_and_difference(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "three_channels.onnx", picture_shape=("N", 3, 96, 96))
    with pytest.raises(InputError) as info:
        import_model(src, as_name=W2L)
    message = str(info.value)
    assert str(src) in message
    assert "input 'target' is (N,3,96,96) float, expected (N,6,96,96) float" in message
    assert "\n" not in message
    assert models.status(W2L) == "missing"
    assert os.listdir(paths.models_dir()) == []  # the staged copy is gone too


def test_import_rejects_an_extra_input_and_a_non_onnx_file(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "extra.onnx", weight="gain")  # wav2lip takes no third input
    with pytest.raises(InputError, match="unexpected input 'gain'"):
        import_model(src, as_name=W2L)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not onnx at all" * 10)
    with pytest.raises(InputError, match=r"junk\.onnx: not a loadable ONNX model"):
        import_model(junk, as_name=W2L)


def test_custom_model_is_registered_and_resolvable(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "mine.onnx")
    installed = import_model(src, as_name="my_lips", family="wav2lip")
    assert "my_lips" in models.load_registry().names()
    resolved = models.resolve("my_lips")
    assert (resolved.family, resolved.path) == ("wav2lip", installed.path)
    assert resolved.path.parent.name == "custom" and resolved.path.is_file()
    saved = json.loads(models.custom_registry_path().read_text())
    assert saved["models"][0]["name"] == "my_lips"
    assert models.status("my_lips") == "installed"
    assert "my_lips" in [m.name for m in models.installed_models()]
    with pytest.raises(InputError, match="no download URL"):
        download("my_lips")
    models.delete("my_lips")
    assert "my_lips" not in models.load_registry().names()
    assert not installed.path.exists()


def test_custom_import_checks_the_contract_too(tmp_path: Path) -> None:
    src = lipsync_onnx(
        tmp_path / "ed.onnx",
        weight="weight",
        picture_shape=("N", 3, 256, 256),
        out_shape=("N", 3, 256, 256),
    )
    with pytest.raises(InputError, match=r"ed\.onnx: not a wav2lip model"):
        import_model(src, as_name="mine", family="wav2lip")
    assert "mine" not in models.load_registry().names()
    assert import_model(src, as_name="mine", family="edtalk").family == "edtalk"


def test_custom_import_needs_a_family_and_a_good_name(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "mine.onnx")
    with pytest.raises(InputError, match="needs --family wav2lip or --family edtalk"):
        import_model(src, as_name="my_lips")
    with pytest.raises(InputError, match="cannot be a model name"):
        import_model(src, as_name="auto", family="wav2lip")
    with pytest.raises(InputError, match="is of the wav2lip family, not edtalk"):
        import_model(src, as_name=W2L, family="edtalk")


def test_unknown_file_without_as_is_refused_with_a_hint(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "wav2lip_96.onnx")
    with pytest.raises(InputError) as info:
        import_model(src)
    assert "add --as wav2lip_96" in str(info.value)
    assert "--as NAME --family wav2lip|edtalk" in str(info.value)


def test_import_recognises_a_known_sha256(yunet_path: Path) -> None:
    installed = import_model(yunet_path)
    assert (installed.name, installed.family) == ("yunet_2026may", "detector")
    assert models.find_detector_model() == installed.path


def test_import_under_a_sha256_name_checks_the_hash(tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "x.onnx")
    with pytest.raises(InputError, match="is not yunet_2026may: its sha256 is"):
        import_model(src, as_name="yunet_2026may")


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("app.cli.models_cmd",))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_cli_models_list(run_cli, yunet_path: Path) -> None:
    import_model(yunet_path)
    code, out, _ = run_cli("models", "list")
    assert code == 0
    lines = {line.split()[0]: line.split() for line in out.splitlines()}
    assert lines["NAME"][:5] == ["NAME", "FAMILY", "STATUS", "SIZE", "LICENCE"]
    assert lines["yunet_2026may"][:4] == ["yunet_2026may", "detector", "installed", "229.7"]
    assert lines["wav2lip_96"][1:3] == ["wav2lip", "missing"]
    assert "Non-commercial" in " ".join(lines["wav2lip_gan_96"])
    assert "Apache-2.0" in lines["edtalk_256"]


def test_cli_models_pull_from_the_local_server(
    run_cli, server: ModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIRROR_ENV, server.url)
    code, out, err = run_cli("models", "pull", W2L)
    assert code == 0
    assert err.index("Non-commercial") < err.index("100%")  # licence shown before the bar
    assert "installed wav2lip_96" in out
    assert models.status(W2L) == "installed"
    code, out, _ = run_cli("models", "pull", W2L)
    assert code == 0 and "already installed" in out


def test_cli_pull_unreachable_exits_2_with_the_import_hint(
    run_cli, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MIRROR_ENV, dead_url)
    code, _, err = run_cli("models", "pull", W2L, "--retries", "0")
    assert code == 2
    assert "models import FILE --as wav2lip_96" in err


def test_cli_import_verify_delete(run_cli, tmp_path: Path) -> None:
    src = lipsync_onnx(tmp_path / "mine.onnx")
    code, out, _ = run_cli("models", "import", str(src), "--as", "mine", "--family", "wav2lip")
    assert code == 0 and "installed mine (wav2lip)" in out
    assert run_cli("models", "verify")[:2] == (0, "yunet_2026may: ok\nmine: ok\n")
    path = models.resolve("mine").path
    path.write_bytes(path.read_bytes()[:-1])
    code, out, _ = run_cli("models", "verify", "mine")
    assert code == 1 and "mine: CORRUPT" in out
    assert run_cli("models", "delete", "mine")[0] == 0
    code, _, err = run_cli("models", "delete", "mine")
    assert code == 2 and "unknown model 'mine'" in err
    code, _, err = run_cli("models", "import", str(tmp_path / "absent.onnx"), "--as", W2L)
    assert code == 2 and "absent.onnx: no such file" in err
