"""JobStore: the SQLite batch queue (CRUD, ordering, atomic claims, crash recovery)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.engine import outputs, paths
from app.engine.queue import jobstore
from app.engine.queue.jobstore import JobSpec, JobStore
from app.engine.settings import RenderSettings
from tests.support.leftovers import any_temp, crashed_temp


def settings(tmp_path: Path, name: str, device: str = "auto", **kw: object) -> RenderSettings:
    return RenderSettings(
        video=tmp_path / "in" / f"{name}.mp4",
        audio=tmp_path / "in" / f"{name}.wav",
        output=tmp_path / "out" / f"{name}.mp4",
        device=device,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def store() -> Iterator[JobStore]:
    s = JobStore()
    yield s
    s.close()


def test_default_path_is_in_the_data_dir_and_uses_wal(store: JobStore) -> None:
    assert store.path == paths.data_dir() / "jobs.sqlite3"
    assert store.path.is_file()
    with sqlite3.connect(store.path) as conn:  # a second reader, as another process would be
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    conn.close()
    assert mode == "wal"
    assert {"jobs_claim", "jobs_priority", "jobs_state_priority", "jobs_state"} <= names


def test_add_get_roundtrip_keeps_every_setting(store: JobStore, tmp_path: Path) -> None:
    rs = settings(
        tmp_path,
        "a",
        device="cuda:1",
        model="wav2lip_96",
        crf=23,
        preset="slow",
        loop="repeat",
        batch_size=16,
        detect_interval=3,
        detector="haar",
        detector_model=tmp_path / "y.onnx",
    )
    job_id = store.add(JobSpec(rs, priority=7))
    job = store.get(job_id)
    assert job is not None
    assert (job.state, job.priority, job.attempts, job.done, job.total) == ("queued", 7, 0, 0, 0)
    assert job.video == rs.video and job.output == rs.output and job.device == "cuda:1"
    assert job.settings["crf"] == 23 and job.settings["detector_model"] == str(tmp_path / "y.onnx")
    assert job.to_settings() == rs
    assert store.get(job_id + 1000) is None
    with pytest.raises(TypeError):  # frozen, and the settings mapping is read-only
        job.settings["crf"] = 1  # type: ignore[index]


def test_add_many_returns_ids_in_order_and_ids_are_never_reused(
    store: JobStore, tmp_path: Path
) -> None:
    ids = store.add_many(settings(tmp_path, f"j{i}") for i in range(5))
    assert [store.get(i).video.stem for i in ids] == [f"j{i}" for i in range(5)]  # type: ignore[union-attr]
    assert store.remove(ids[-1])
    (new,) = store.add_many([settings(tmp_path, "new")])
    assert new > ids[-1]  # the GUI and the log key on ids: a removed one must stay unique
    assert store.add_many([]) == []


def test_claim_order_is_priority_desc_then_fifo(store: JobStore, tmp_path: Path) -> None:
    prios = [0, 5, 1, 5, 0, 9, 1]
    ids = store.add_many(JobSpec(settings(tmp_path, f"j{i}"), p) for i, p in enumerate(prios))
    expected = [ids[i] for i in sorted(range(len(prios)), key=lambda i: (-prios[i], i))]
    assert [j.id for j in store.page(0, 100)] == expected
    claimed = []
    while (job := store.claim_next("cpu")) is not None:
        claimed.append(job.id)
        assert (job.state, job.attempts, job.slot) == ("running", 1, "cpu")
    assert claimed == expected
    assert store.count("running") == len(prios) and store.count("queued") == 0


def test_claim_respects_device(store: JobStore, tmp_path: Path) -> None:
    cpu, gpu1, fam, auto = store.add_many(
        [
            settings(tmp_path, "c", device="cpu"),
            settings(tmp_path, "g", device="cuda:1"),
            settings(tmp_path, "f", device="cuda"),
            settings(tmp_path, "a", device="auto"),
        ]
    )
    assert store.claim_next("cuda:0", accept=("cuda:0",)) is None
    job = store.claim_next("cuda:0")  # default accept: cuda:0, cuda, auto -> FIFO: "cuda" first
    assert job is not None and job.id == fam and job.to_settings().device == "cuda:0"
    job = store.claim_next("cuda:0")
    assert job is not None and job.id == auto and job.to_settings().device == "cuda:0"
    assert store.claim_next("cuda:0") is None
    assert store.claim_next("cpu", accept=("cpu",)).id == cpu  # type: ignore[union-attr]
    assert store.claim_next("cuda:1").id == gpu1  # type: ignore[union-attr]


def test_page_orders_filters_and_counts(store: JobStore, tmp_path: Path) -> None:
    ids = store.add_many(JobSpec(settings(tmp_path, f"j{i}"), i % 3) for i in range(10))
    by_prio = [j.id for j in store.page(0, 100)]
    assert by_prio == sorted(ids, key=lambda i: (-((i - ids[0]) % 3), i))
    assert [j.id for j in store.page(3, 4)] == by_prio[3:7]
    assert [j.id for j in store.page(0, 100, order="created")] == ids
    store.claim_next("cpu")
    store.claim_next("cpu")
    running = [j.id for j in store.page(0, 100, state="running")]
    assert running == by_prio[:2]
    assert [j.id for j in store.page(0, 100, order="created", state="queued")] == [
        i for i in ids if i not in running
    ]
    assert (store.count(), store.count("running"), store.count("queued")) == (10, 2, 8)
    assert store.count("queued", devices=("cpu",)) == 0
    assert store.count("queued", devices=("auto", "cpu")) == 8
    with pytest.raises(ValueError):
        store.page(0, 10, state="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        store.page(0, 10, order="name")  # type: ignore[arg-type]


def test_state_transitions(store: JobStore, tmp_path: Path) -> None:
    a, b, c, d = store.add_many(settings(tmp_path, n) for n in "abcd")
    assert not store.finish(a) and not store.fail(a, "x")  # only a running job finishes
    job = store.claim_next("cpu")
    assert job is not None and job.id == a
    assert store.update_progress(a, 5, 10, 24.0)
    got = store.get(a)
    assert got is not None and (got.done, got.total, got.fps, got.fraction) == (5, 10, 24.0, 0.5)
    assert store.finish(a)
    got = store.get(a)
    assert got is not None and got.state == "done" and got.done == 10 and got.finished
    assert not store.update_progress(a, 6, 10, 1.0)  # a finished job's progress is frozen
    assert not store.remove(store.claim_next("cpu").id)  # type: ignore[union-attr]  # running
    assert store.fail(b, "boom")
    assert store.get(b).error == "boom"  # type: ignore[union-attr]
    assert store.cancel(c) and not store.cancel(c)
    assert store.set_priority(d, 4) and store.get(d).priority == 4  # type: ignore[union-attr]
    assert store.cancel_queued() == [d]
    assert store.count("queued") == 0 and store.count("cancelled") == 2
    assert store.clear_done() == 1 and store.get(a) is None


def test_requeue_goes_to_the_back_of_its_band_and_release_keeps_the_place(
    store: JobStore, tmp_path: Path
) -> None:
    a, b, c = store.add_many(settings(tmp_path, n) for n in "abc")
    assert store.claim_next("cpu").id == a  # type: ignore[union-attr]
    assert not store.requeue(a)  # running: not a finished job
    assert store.fail(a, "oops") and store.requeue(a)
    job = store.get(a)
    assert job is not None and job.state == "queued" and job.attempts == 1
    assert job.error == "oops"  # the last error stays visible until the retry starts
    assert [j.id for j in store.page(0, 10)] == [b, c, a]
    assert store.claim_next("cpu").id == b  # type: ignore[union-attr]
    assert store.release(b)  # interrupted by a shutdown: front again, attempt not counted
    job = store.get(b)
    assert job is not None and (job.state, job.attempts) == ("queued", 0)
    assert [j.id for j in store.page(0, 10)] == [b, c, a]
    retried = store.claim_next("cpu")
    assert retried is not None and retried.id == b
    assert store.fail(b, "x") and store.requeue(b, reset_attempts=True)
    assert store.get(b).attempts == 0  # type: ignore[union-attr]
    claimed = [store.claim_next("cpu") for _ in range(2)]
    assert [j.id for j in claimed if j] == [c, a]
    assert store.get(a).error is None  # type: ignore[union-attr]  # cleared on claim


def test_claims_from_four_threads_never_take_a_job_twice(tmp_path: Path) -> None:
    n_jobs = 400
    with JobStore() as store:
        store.add_many(JobSpec(settings(tmp_path, f"j{i}"), i % 4) for i in range(n_jobs))
    claimed: list[list[int]] = [[] for _ in range(4)]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def claim_all(k: int, store: JobStore) -> None:
        try:
            start.wait()
            while (job := store.claim_next("cpu")) is not None:
                claimed[k].append(job.id)
        except BaseException as exc:
            errors.append(exc)

    # Two threads share one store (its lock), two have their own connection (SQLite's lock).
    shared, own1, own2 = JobStore(), JobStore(), JobStore()
    try:
        threads = [
            threading.Thread(target=claim_all, args=(k, s))
            for k, s in enumerate([shared, shared, own1, own2])
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not errors
        all_ids = [i for ids in claimed for i in ids]
        assert len(all_ids) == len(set(all_ids)) == n_jobs
        assert sum(1 for ids in claimed if ids) >= 2  # they really competed
        assert shared.count("running") == n_jobs
        assert {j.attempts for j in shared.page(0, n_jobs)} == {1}
    finally:
        for s in (shared, own1, own2):
            s.close()


def test_recover_after_crash_requeues_running_jobs_and_deletes_part_files(
    tmp_path: Path,
) -> None:
    (tmp_path / "out").mkdir()
    store = JobStore()
    a, b, c = store.add_many(settings(tmp_path, n) for n in "abc")
    for _ in range(3):
        store.claim_next("cpu")
    store.update_progress(a, 40, 100, 12.0)
    store.finish(c)
    out = tmp_path / "out"
    for name in "abc":
        crashed_temp(out / f"{name}.mp4")
    live = outputs.create_temp(out / "a.mp4")  # another process still rendering a.mp4
    store.get(c).output.write_bytes(b"finished video")  # type: ignore[union-attr]
    store.close()  # the "crash": the process ends with a and b running

    with JobStore() as store:
        recovered = store.recover_after_crash()
        assert [(j.id, j.state, j.done) for j in recovered] == [(a, "queued", 0), (b, "queued", 0)]
        assert outputs.temps_of(out / "a.mp4") == [live]  # a live process's temp stays
        assert not any_temp(out / "b.mp4")
        assert any_temp(out / "c.mp4")  # not a running job: left alone
        assert (tmp_path / "out" / "c.mp4").read_bytes() == b"finished video"
        assert [j.id for j in store.page(0, 10, state="queued")] == [a, b]  # same places
        assert store.recover_after_crash() == []


def test_recover_fails_a_job_that_keeps_crashing_the_app(store: JobStore, tmp_path: Path) -> None:
    a = store.add(settings(tmp_path, "a"))
    for crash in (1, 2, 3):  # each time the app dies while the job runs
        job = store.claim_next("cpu")
        assert job is not None and (job.id, job.attempts) == (a, crash)
        (recovered,) = store.recover_after_crash(max_attempts=3)
        if crash < 3:
            assert recovered.state == "queued"
    assert recovered.state == "failed"
    assert recovered.error == "interrupted 3 times (app crashed or was killed)"
    assert store.claim_next("cpu") is None


def test_jobs_persist_across_reopen(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "queue.sqlite3"
    with JobStore(db) as store:
        a, b = store.add_many([JobSpec(settings(tmp_path, "a"), 3), settings(tmp_path, "b")])
        store.claim_next("cpu")
        store.update_progress(a, 7, 9, 5.5)
        store.set_priority(b, 8)
    assert not (paths.data_dir() / "jobs.sqlite3").exists()
    with JobStore(db) as store:
        job = store.get(a)
        assert job is not None and (job.state, job.done, job.total, job.priority) == (
            "running",
            7,
            9,
            3,
        )
        assert store.get(b).priority == 8  # type: ignore[union-attr]
        c = store.add(settings(tmp_path, "c"))
        assert c > b
        assert [j.id for j in store.page(0, 10, state="queued")] == [b, c]


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = JobStore()
    store.close()
    store.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        store.add(settings(tmp_path, "a"))


def test_a_done_job_keeps_its_face_coverage_and_warning(store: JobStore, tmp_path: Path) -> None:
    clean, warned = store.add_many(settings(tmp_path, n) for n in "ab")
    for job_id, face_frames, warning in ((clean, 183, None), (warned, 0, "no face found")):
        assert store.claim_next("cpu") is not None
        store.update_progress(job_id, 200, 200, 10.0)
        assert store.finish(job_id, face_frames, warning, model_used="draft")
    a, b = store.get(clean), store.get(warned)
    assert a is not None and b is not None
    assert a.coverage is not None and a.coverage.text == "face in 183 of 200 frames"
    assert (a.outcome, a.done_with_warning) == ("done", False)
    assert (b.outcome, b.warning, b.state) == ("done-with-warning", "no face found", "done")
    assert a.model_used == b.model_used == "draft"
    assert store.requeue(warned)  # a retry starts clean
    again = store.get(warned)
    assert again is not None and again.warning is None and again.coverage is None
    assert again.model_used is None


def test_a_queue_written_before_face_coverage_opens_with_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # the version 1 table, with one done job
        conn.execute(
            "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, "
            "video TEXT NOT NULL, audio TEXT NOT NULL, output TEXT NOT NULL, model TEXT NOT NULL,"
            " device TEXT NOT NULL, settings TEXT NOT NULL DEFAULT '{}', priority INTEGER NOT "
            "NULL DEFAULT 0, state TEXT NOT NULL DEFAULT 'queued', done INTEGER NOT NULL DEFAULT"
            " 0, total INTEGER NOT NULL DEFAULT 0, fps REAL NOT NULL DEFAULT 0, error TEXT, "
            "attempts INTEGER NOT NULL DEFAULT 0, slot TEXT, created REAL NOT NULL, started "
            "REAL, finished REAL)"
        )
        conn.execute(
            "INSERT INTO jobs (seq, video, audio, output, model, device, state, done, total, "
            "created) VALUES (1, 'v.mp4', 'a.wav', 'o.mp4', 'draft', 'cpu', 'done', 9, 9, 0)"
        )
        conn.execute("PRAGMA user_version=1")
    with JobStore(path) as store:
        job = store.get(1)
        assert job is not None and job.state == "done" and job.coverage is None
        assert job.outcome == "done" and job.error_kind is None and job.model_used is None
        (version,) = store._query("PRAGMA user_version")[0]
        assert version == jobstore.SCHEMA_VERSION
        (new,) = store.add_many([JobSpec(settings(tmp_path, "new", "cpu"))])
        claimed = store.claim_next("cpu")
        assert claimed is not None and claimed.id == new
        assert store.fail(new, "weights missing", "model_missing")
        assert store.get(new).error_kind == "model_missing"  # type: ignore[union-attr]


def test_outputs_lists_one_state_only(store: JobStore, tmp_path: Path) -> None:
    ids = store.add_many([settings(tmp_path, name) for name in ("a", "b", "c", "d")])
    store.claim_next("cpu")  # a -> running
    store.cancel(ids[2])
    assert store.outputs("queued") == [str(tmp_path / "out" / n) for n in ("b.mp4", "d.mp4")]
    assert store.outputs("running") == [str(tmp_path / "out" / "a.mp4")]
    assert store.outputs("done") == []
    with pytest.raises(ValueError, match="unknown job state"):
        store.outputs("sleeping")  # type: ignore[arg-type]


def test_changes_by_another_connection_are_seen(store: JobStore, tmp_path: Path) -> None:
    first = store.add(settings(tmp_path, "a"))
    version = store.data_version()
    store.add(settings(tmp_path, "own"))  # this connection's own write: no change seen
    assert store.data_version() == version
    with JobStore() as other:  # as the API server or a `batch` in another process
        new = other.add_many([settings(tmp_path, "b"), settings(tmp_path, "c")])
        other.claim_next("cpu")  # a -> running
    assert store.data_version() != version
    assert store.ids_after(first + 1) == new and store.max_id() == new[-1]
    assert store.pending() == {first: ("running", 0), first + 1: ("queued", 0)} | {
        i: ("queued", 0) for i in new
    }
