"""The per-device thread plan (threads.py) and where it is applied."""

from __future__ import annotations

from app.engine.models.providers import DeviceChoice, session_options
from app.engine.threads import AUTO, thread_plan, usable_cores


def test_cpu_model_gets_every_core_as_single_threaded_workers() -> None:
    plan = thread_plan("cpu", cores=8)
    assert (plan.model_workers, plan.model_intra_op, plan.model_spinning) == (8, 1, False)
    assert (plan.decoder_threads, plan.encoder_threads) == (AUTO, AUTO)


def test_gpu_model_leaves_the_cores_to_the_codecs() -> None:
    plan = thread_plan("gpu", cores=8)
    assert (plan.model_workers, plan.model_intra_op, plan.model_spinning) == (1, 1, False)
    assert (plan.decoder_threads, plan.encoder_threads) == (AUTO, AUTO)


def test_sessions_follow_the_plan() -> None:
    assert thread_plan("cpu").model_workers == usable_cores()
    cpu = session_options(DeviceChoice("cpu"))
    assert cpu.intra_op_num_threads == thread_plan("cpu").model_intra_op
    gpu = session_options(DeviceChoice("cuda"))
    assert gpu.intra_op_num_threads == thread_plan("gpu").model_intra_op
    for options in (cpu, gpu):
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
