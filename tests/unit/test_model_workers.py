"""Several model workers over one session give the one-worker result, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engine.models.lipsync.draft import DraftModel
from app.engine.models.lipsync.wav2lip import Wav2LipModel
from app.engine.models.providers import SessionCache
from app.engine.render.faces import Face
from app.engine.render.model_workers import ModelWorkers
from app.engine.render.recipe import LipSync
from app.engine.render.stages import StageClock
from tests.support import standins


def frames_and_faces(n: int) -> list[tuple[int, np.ndarray, Face | None]]:
    rng = np.random.default_rng(1)
    landmarks = np.array([[100, 90], [140, 90], [120, 115], [105, 140], [135, 140]], np.float32)
    items = []
    for i in range(n):
        frame = rng.integers(0, 256, (240, 240, 3), dtype=np.uint8)
        face = (
            None
            if i % 7 == 3
            else Face(np.array([70, 50, 170, 180], np.float32), landmarks + i % 3, 0.9)
        )
        items.append((i, frame, face))
    return items


def batches(items: list, size: int) -> list[list]:
    return [items[k : k + size] for k in range(0, len(items), size)]


def test_workers_return_every_batch_in_order_with_the_same_mouths(tmp_path: Path) -> None:
    path = standins.build_wav2lip_identity(tmp_path / "identity.onnx")  # mouth = its crop
    model = Wav2LipModel(SessionCache().get(path, "cpu"), batch_size=4)
    mels = np.random.default_rng(2).random((40, 80, 16), dtype=np.float32)
    items = frames_and_faces(40)
    one, four = ModelWorkers(LipSync(model, mels), 1), ModelWorkers(LipSync(model, mels), 4)
    assert (one.count, four.count) == (1, 4)
    clock_one, clock_four = StageClock(), StageClock()
    serial = list(one.run(batches(items, 4), clock_one))
    parallel = list(four.run(batches(items, 4), clock_four))
    assert [[g.index for g in gen] for _, gen in parallel] == [
        list(range(k, k + 4)) for k in range(0, 40, 4)
    ]
    for (_, a), (_, b) in zip(serial, parallel):
        for x, y in zip(a, b):
            assert (x.mouth is None) == (y.mouth is None)
            if x.mouth is not None:
                assert np.array_equal(x.mouth, y.mouth)
    assert clock_one.items == clock_four.items == 40
    assert clock_four.cpu_s > 0


def test_a_model_without_replicas_runs_in_one_worker() -> None:
    mels = np.zeros((8, 80, 16), np.float32)
    draft = DraftModel()
    draft.prepare(mels)
    assert ModelWorkers(LipSync(draft, mels), 4).count == 1
