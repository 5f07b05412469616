"""On an NVIDIA GPU: the CUDA session, IO binding, NVENC and NVDEC really work."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from app.engine.models.lipsync.wav2lip import Wav2LipModel
from app.engine.models.providers import SessionCache
from app.engine.render import media
from app.engine.render.media import encoders, hw_decode
from tests.mediagen import luma_psnr, make_video
from tests.support import standins


def crops_and_mels(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)
    return crops, rng.random((n, 80, 16), dtype=np.float32)


def test_a_cuda_session_starts_on_the_gpu(tmp_path: Path) -> None:
    path = standins.build_wav2lip_identity(tmp_path / "id.onnx")
    session = SessionCache().get(path, "cuda")
    assert session.get_providers()[0] == "CUDAExecutionProvider"


@pytest.mark.parametrize("io_binding", [True, False])
def test_wav2lip_on_cuda_returns_what_it_was_given(tmp_path: Path, io_binding: bool) -> None:
    path = standins.build_wav2lip_identity(tmp_path / "id.onnx")
    model = Wav2LipModel(SessionCache().get(path, "cuda"), batch_size=8, io_binding=io_binding)
    crops, mels = crops_and_mels(19)  # two full batches and a padded tail
    out = model.infer(crops, mels, np.arange(19))
    assert model.runner.uses_io_binding == io_binding
    assert np.array_equal(out, crops)


def test_nvenc_writes_a_file_as_good_as_libx264(tmp_path: Path) -> None:
    reason = encoders.open_error("h264_nvenc")
    if reason is not None:
        pytest.skip(f"this GPU's driver does not open NVENC: {reason}")
    source = make_video(tmp_path / "src.mp4", 320, 240, seconds=1.0, audio=False)
    with media.open_video(source) as reader:
        frames = list(reader.frames())
    with media.VideoWriter(tmp_path / "nv.mp4", 320, 240, 25, encoder="h264_nvenc") as writer:
        for frame in frames:
            writer.write(frame)
    assert writer.encoder == "h264_nvenc"
    with av.open(str(tmp_path / "nv.mp4")) as container:
        decoded = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(decoded) == len(frames)
    assert min(luma_psnr(a, b) for a, b in zip(decoded, frames)) > 30


def test_nvdec_decodes_the_same_frames(tmp_path: Path) -> None:
    reason = hw_decode.decode_error("cuda")
    if reason is not None:
        pytest.skip(f"NVDEC does not decode here: {reason}")
    video = make_video(tmp_path / "v.mp4", 320, 240, seconds=1.0, audio=False)
    with media.open_video(video) as reader:
        cpu = list(reader.frames())
    with media.open_video(video, "cuda") as reader:
        gpu = list(reader.frames())
    assert len(gpu) == len(cpu)
    assert min(luma_psnr(a, b) for a, b in zip(gpu, cpu)) > 40
