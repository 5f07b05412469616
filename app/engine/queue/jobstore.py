"""SQLite-backed persistent batch queue: survives a crash or a restart.

One table `jobs`; WAL mode so the GUI can read while a worker writes. One connection
shared by every thread behind a lock: each call is a short statement (well under a
millisecond), so a lock costs less than a connection per thread, and `close()` can
close the one connection from whichever thread calls it.

States: queued -> running -> done | failed | cancelled; requeue() puts a finished job
back in the queue. A done job also records its face coverage (`face_frames` of `total`
frames) and, when the render needs a look (no face, or under half the frames), a
`warning`: that job is done-with-warning (`Job.done_with_warning`), a state of its own
for the user (`Job.outcome`), still "done" for the queue.

The scheduler picks the next job by (priority desc, seq asc): `seq` is a counter
separate from `id`, so a retried job can go to the back of its priority band while a
job interrupted by a shutdown keeps its place.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from app.engine import outputs, paths
from app.engine.errors import InputError
from app.engine.render.coverage import FaceCoverage
from app.engine.settings import RenderSettings

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
STATES: tuple[str, ...] = ("queued", "running", "done", "failed", "cancelled")
FINISHED_STATES: tuple[str, ...] = ("done", "failed", "cancelled")
PENDING_STATES: tuple[JobState, ...] = ("queued", "running")  # a job in these will still write
DONE_WITH_WARNING = "done-with-warning"  # Job.outcome of a done job with a warning
# Why a job failed, for a front end to act on (offer a download, say "check the file")
# without reading the message: the message is for people.
FailureKind = Literal["bad_input", "model_missing", "error", "stalled", "interrupted"]
PageOrder = Literal["priority", "created"]
DB_NAME = "jobs.sqlite3"
SCHEMA_VERSION = 4  # 2: face_frames and warning; 3: error_kind; 4: model_used
BUSY_TIMEOUT_S = 5.0  # another process (CLI beside the GUI) holding the write lock

# RenderSettings fields that have their own column; the rest go to the JSON `settings`.
_COLUMN_FIELDS = ("video", "audio", "output", "model", "device")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reuse an id: logs and the GUI key on it
    seq       INTEGER NOT NULL,
    video     TEXT    NOT NULL,
    audio     TEXT    NOT NULL,
    output    TEXT    NOT NULL,
    model     TEXT    NOT NULL,
    device    TEXT    NOT NULL,
    settings  TEXT    NOT NULL DEFAULT '{}',
    priority  INTEGER NOT NULL DEFAULT 0,
    state     TEXT    NOT NULL DEFAULT 'queued'
              CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    done      INTEGER NOT NULL DEFAULT 0,
    total     INTEGER NOT NULL DEFAULT 0,
    fps       REAL    NOT NULL DEFAULT 0,
    error     TEXT,
    error_kind TEXT,  -- a FailureKind; NULL unless failed (or failed once and requeued)
    attempts  INTEGER NOT NULL DEFAULT 0,
    slot      TEXT,
    created   REAL    NOT NULL,
    started   REAL,
    finished  REAL,
    face_frames INTEGER,  -- frames the face was animated in; NULL until done
    warning   TEXT,       -- done-with-warning: why the output needs a look
    model_used TEXT       -- the model that rendered it ("auto" resolved); NULL until done
);
-- Scheduler: next queued job for one device. Partial, so it holds only the queue
-- (small once most of a batch is done); claim_next asks once per accepted device.
CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (device, priority DESC, seq) WHERE state = 'queued';
-- GUI: a page of jobs by priority, all states or one state; count(state).
CREATE INDEX IF NOT EXISTS jobs_priority ON jobs (priority DESC, seq);
CREATE INDEX IF NOT EXISTS jobs_state_priority ON jobs (state, priority DESC, seq);
-- GUI: a page of one state in creation order (the rowid rides along in the index).
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 1);
"""

_COLUMNS = (
    "id, seq, video, audio, output, model, device, settings, priority, state, done, total, "
    "fps, error, attempts, slot, created, started, finished, face_frames, warning, error_kind, "
    "model_used"
)
# Columns added after version 1, with their declarations: an older file gains them.
_ADDED_COLUMNS = (
    ("face_frames", "INTEGER"),
    ("warning", "TEXT"),
    ("error_kind", "TEXT"),
    ("model_used", "TEXT"),
)


def device_family(device: str) -> str:
    """'cuda:1' -> 'cuda'; 'cpu' -> 'cpu'."""
    return device.split(":", 1)[0]


def concrete_device(job_device: str, slot: str | None) -> str:
    """The concrete device a job runs on: its slot when the job left the choice open."""
    if slot and (job_device == "auto" or job_device == device_family(slot)):
        return slot
    return job_device


@dataclass(frozen=True)
class JobSpec:
    """What to render and how urgently; `JobStore.add` turns it into a queued job."""

    settings: RenderSettings
    priority: int = 0


@dataclass(frozen=True)
class Job:
    id: int
    seq: int
    video: Path
    audio: Path
    output: Path
    model: str
    device: str  # what the user asked for: auto | cpu | cuda | cuda:N | dml[:N]
    settings: Mapping[str, Any] = field(hash=False)  # the other RenderSettings fields
    priority: int
    state: JobState
    done: int  # frames written
    total: int  # frames the render will write (0 until the pipeline knows)
    fps: float
    error: str | None
    attempts: int  # times a worker has claimed it
    slot: str | None  # the scheduler slot that ran it last, e.g. "cuda:0"
    created: float  # epoch seconds
    started: float | None
    finished: float | None
    face_frames: int | None = None  # frames with an animated face; None until done
    warning: str | None = None  # set on a done job whose output needs a look
    error_kind: FailureKind | None = None  # why it failed; None unless `error` is set
    model_used: str | None = None  # the model that rendered a done job ("auto" resolved)
    # Not stored: the scheduler's word, when it starts the job, that queued jobs of the
    # same presenter video follow it (so the render keeps the video's decoded frames).
    presenter_follows: bool = field(default=False, compare=False)

    @property
    def done_with_warning(self) -> bool:
        return self.state == "done" and self.warning is not None

    @property
    def outcome(self) -> str:
        """The state as the user sees it: `state`, or "done-with-warning"."""
        return DONE_WITH_WARNING if self.done_with_warning else self.state

    @property
    def coverage(self) -> FaceCoverage | None:
        """'face in 183 of 200 frames' once done; None before (or for an old record)."""
        if self.face_frames is None:
            return None
        return FaceCoverage(self.face_frames, self.total)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    def to_settings(self) -> RenderSettings:
        """The RenderSettings to render with; `device` is the claimed slot when left open."""
        known = {f.name for f in fields(RenderSettings)} - set(_COLUMN_FIELDS)
        extra = {k: v for k, v in self.settings.items() if k in known}
        if len(extra) != len(self.settings):
            # Written by a newer version of the app: render with what this one understands.
            log.debug("job %d: ignoring unknown settings %s", self.id, set(self.settings) - known)
        return RenderSettings(
            video=self.video,
            audio=self.audio,
            output=self.output,
            model=self.model,
            device=concrete_device(self.device, self.slot),
            **extra,
        )


def _row_to_job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    (
        id_,
        seq,
        video,
        audio,
        output,
        model,
        device,
        settings,
        priority,
        state,
        done,
        total,
        fps,
        error,
        attempts,
        slot,
        created,
        started,
        finished,
        face_frames,
        warning,
        error_kind,
        model_used,
    ) = row
    return Job(
        id=id_,
        seq=seq,
        video=Path(video),
        audio=Path(audio),
        output=Path(output),
        model=model,
        device=device,
        settings=MappingProxyType(json.loads(settings)),
        priority=priority,
        state=state,
        done=done,
        total=total,
        fps=fps,
        error=error,
        attempts=attempts,
        slot=slot,
        created=created,
        started=started,
        finished=finished,
        face_frames=face_frames,
        warning=warning,
        error_kind=error_kind,
        model_used=model_used,
    )


# Fields of RenderSettings stored in the JSON column, and their encoder (Path -> str).
# Built by hand rather than with RenderSettings.to_dict(): asdict() deep-copies, and
# add_many(100_000) spent most of its time there.
_SETTINGS_FIELDS = tuple(f.name for f in fields(RenderSettings) if f.name not in _COLUMN_FIELDS)
_encode_settings = json.JSONEncoder(separators=(",", ":"), default=str).encode


def _spec_row(spec: JobSpec | RenderSettings, seq: int, now: float) -> tuple[Any, ...]:
    if isinstance(spec, RenderSettings):
        spec = JobSpec(spec)
    s = spec.settings
    rest = {name: getattr(s, name) for name in _SETTINGS_FIELDS}
    return (
        seq,
        str(s.video),
        str(s.audio),
        str(s.output),
        s.model,
        s.device,
        _encode_settings(rest),
        int(spec.priority),
        now,
    )


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    """Damage (not a database, malformed), as opposed to a folder we may not write."""
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def _move_aside(db: Path) -> Path:
    """Rename a damaged queue file (and its WAL files) to DB.damaged-N; return the path."""
    n = 1
    while (aside := db.with_name(f"{db.name}.damaged-{n}")).exists():
        n += 1
    for suffix in ("-wal", "-shm"):
        companion = db.with_name(db.name + suffix)
        if companion.exists():
            companion.rename(aside.with_name(aside.name + suffix))
    db.rename(aside)
    return aside


class JobStore:
    """The persistent job queue. Thread-safe; close() when done (or use `with`)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else paths.data_dir() / DB_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self.set_aside: Path | None = None  # where a damaged queue file was moved
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self.close()
            if not _is_damage(exc):
                raise InputError(
                    f"{self.path}: cannot open the job queue ({exc}); make its folder "
                    "writable, or set LIPSYNC_STUDIO_HOME to a folder you can write"
                ) from None
            # A damaged file must not stop every command: keep it aside, start afresh.
            self.set_aside = _move_aside(self.path)
            log.info(
                "%s: the job queue file was damaged (%s); moved it to %s and started an "
                "empty queue",
                self.path,
                exc,
                self.set_aside,
            )
            self._open()

    def _open(self) -> None:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a claim takes the
        # write lock before it reads (atomic across processes too, not just threads).
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: no fsync per commit (progress is written ~10x/s), still
            # crash-safe; a power cut can only lose the last few commits.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                self._conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")
                self._add_missing_columns()
                # A file cut short reads fine until a query reaches a missing page.
                ((check,),) = self._conn.execute("PRAGMA quick_check(1)").fetchall()
            if check != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed ({check})")
        except BaseException:
            self.close()
            raise

    # -- plumbing ---------------------------------------------------------------------

    def _add_missing_columns(self) -> None:
        """Bring a queue written by an older version up to this schema (jobs kept)."""
        with self._tx() as conn:
            have = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
            for name, decl in _ADDED_COLUMNS:
                if name not in have:
                    conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {decl}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError(f"job store {self.path} is closed")
        return self._conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._connection().execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One autocommitted statement; returns the number of rows it changed."""
        with self._lock:
            return self._connection().execute(sql, params).rowcount

    @staticmethod
    def _take_seq(conn: sqlite3.Connection, n: int = 1) -> int:
        (first,) = conn.execute("SELECT value FROM meta WHERE key = 'next_seq'").fetchone()
        conn.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (first + n,))
        return int(first)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- adding and reading -----------------------------------------------------------

    def add(self, spec: JobSpec | RenderSettings) -> int:
        return self.add_many([spec])[0]

    def add_many(self, specs: Iterable[JobSpec | RenderSettings]) -> list[int]:
        """Queue many jobs in one transaction; ids are returned in the order given."""
        specs = list(specs)
        if not specs:
            return []
        now = time.time()
        with self._tx() as conn:
            seq = self._take_seq(conn, len(specs))
            conn.executemany(
                "INSERT INTO jobs (seq, video, audio, output, model, device, settings, "
                "priority, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_spec_row(spec, seq + i, now) for i, spec in enumerate(specs)),
            )
            # AUTOINCREMENT inside one write transaction: the ids are consecutive.
            (last,) = conn.execute("SELECT last_insert_rowid()").fetchone()
        return list(range(last - len(specs) + 1, last + 1))

    def get(self, job_id: int) -> Job | None:
        rows = self._query(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _row_to_job(rows[0]) if rows else None

    def page(
        self,
        offset: int = 0,
        limit: int = 200,
        order: PageOrder = "priority",
        state: JobState | None = None,
    ) -> list[Job]:
        """One page of jobs, by (priority desc, seq) or by creation; optionally one state."""
        if order == "priority":
            order_by = "priority DESC, seq"
        elif order == "created":
            order_by = "id"
        else:
            raise ValueError(f"unknown page order {order!r}; use 'priority' or 'created'")
        where, params = self._state_filter(state)
        rows = self._query(
            f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY {order_by} LIMIT ? OFFSET ?",
            (*params, int(limit), int(offset)),
        )
        return [_row_to_job(r) for r in rows]

    @staticmethod
    def _state_filter(state: str | None) -> tuple[str, tuple[Any, ...]]:
        if state is None:
            return "", ()
        if state not in STATES:
            raise ValueError(f"unknown job state {state!r}; one of {', '.join(STATES)}")
        return "WHERE state = ?", (state,)

    def count(self, state: JobState | None = None, devices: Sequence[str] | None = None) -> int:
        """How many jobs (in `state`; asking for one of `devices` when given)."""
        where, params = self._state_filter(state)
        if devices is not None:
            marks = ", ".join("?" * len(devices))
            where += (" AND " if where else "WHERE ") + f"device IN ({marks})"
            params += tuple(devices)
        ((n,),) = self._query(f"SELECT COUNT(*) FROM jobs {where}", params)
        return int(n)

    def outputs(self, state: JobState) -> list[str]:
        """The output paths of every job in `state`: one column, no Job objects (a new job
        checks its name against the queue's, at 1000s of queued jobs)."""
        where, params = self._state_filter(state)
        rows = self._query(f"SELECT output FROM jobs {where} ORDER BY id", params)
        return [row[0] for row in rows]

    def input_paths(self) -> set[str]:
        """Every video and audio path any job refers to, in any state."""
        rows = self._query("SELECT video, audio FROM jobs")
        return {path for row in rows for path in row}

    # -- what other processes changed ---------------------------------------------------

    def data_version(self) -> int:
        """Changes whenever ANOTHER connection (the API server, `batch`, `queue cancel` in
        another process) commits to the database; not for this connection's own writes."""
        ((version,),) = self._query("PRAGMA data_version")
        return int(version)

    def max_id(self) -> int:
        ((top,),) = self._query("SELECT COALESCE(MAX(id), 0) FROM jobs")
        return int(top)

    def ids_after(self, job_id: int) -> list[int]:
        """Ids of the jobs added after `job_id`, oldest first."""
        return [
            row[0] for row in self._query("SELECT id FROM jobs WHERE id > ? ORDER BY id", (job_id,))
        ]

    def queued_with_video(self, video: Path) -> int:
        """How many queued jobs render `video` (the scheduler's batch-reuse hint)."""
        rows = self._query(
            "SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND video = ?", (str(video),)
        )
        return int(rows[0][0])

    def pending(self) -> dict[int, tuple[str, int]]:
        """id -> (state, frames done) of every queued and running job, in one query."""
        rows = self._query("SELECT id, state, done FROM jobs WHERE state IN ('queued', 'running')")
        return {job_id: (state, done) for job_id, state, done in rows}

    # -- the scheduler's transitions --------------------------------------------------

    def claim_next(self, device_slot: str, accept: Sequence[str] | None = None) -> Job | None:
        """Atomically move the best queued job this slot may run to 'running'.

        `accept`: the job `device` values this slot takes; default: the slot itself, its
        family ("cuda" for "cuda:0") and "auto". Best = highest priority, then lowest seq.
        """
        if accept is None:
            accept = tuple(dict.fromkeys((device_slot, device_family(device_slot), "auto")))
        with self._tx() as conn:
            best: tuple[int, int, int] | None = None  # (-priority, seq, id): smallest wins
            for device in accept:
                # One index seek per device: an IN list would sort every queued row.
                # INDEXED BY: without ANALYZE statistics the planner picks the state index
                # and walks every queued job of the other devices.
                row = conn.execute(
                    "SELECT priority, seq, id FROM jobs INDEXED BY jobs_claim "
                    "WHERE state = 'queued' AND device = ? "
                    "ORDER BY priority DESC, seq LIMIT 1",
                    (device,),
                ).fetchone()
                if row is not None and (best is None or (-row[0], row[1]) < best[:2]):
                    best = (-row[0], row[1], row[2])
            if best is None:
                return None
            conn.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, slot = ?, "
                "started = ?, finished = NULL, done = 0, fps = 0, error = NULL, "
                "face_frames = NULL, warning = NULL, error_kind = NULL, model_used = NULL "
                "WHERE id = ?",
                (device_slot, time.time(), best[2]),
            )
            row = conn.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (best[2],)).fetchone()
        return _row_to_job(row)

    def update_progress(self, job_id: int, done: int, total: int, fps: float) -> bool:
        """Record progress of a running job (cheap: one primary-key UPDATE, no fsync)."""
        return bool(
            self._execute(
                "UPDATE jobs SET done = ?, total = ?, fps = ? WHERE id = ? AND state = 'running'",
                (int(done), int(total), float(fps), job_id),
            )
        )

    def finish(
        self,
        job_id: int,
        face_frames: int | None = None,
        warning: str | None = None,
        model_used: str | None = None,
    ) -> bool:
        """running -> done, with the render's face coverage, its warning if any
        (done-with-warning) and the model that rendered it. False if the job is not
        running (e.g. cancelled meanwhile)."""
        return bool(
            self._execute(
                "UPDATE jobs SET state = 'done', finished = ?, done = MAX(done, total), "
                "face_frames = ?, warning = ?, model_used = ? WHERE id = ? AND state = 'running'",
                (time.time(), face_frames, warning, model_used, job_id),
            )
        )

    def fail(self, job_id: int, error: str, kind: FailureKind = "error") -> bool:
        """running -> failed with an error message and why, as a FailureKind."""
        return bool(
            self._execute(
                "UPDATE jobs SET state = 'failed', finished = ?, error = ?, error_kind = ? "
                "WHERE id = ? AND state = 'running'",
                (time.time(), error, kind, job_id),
            )
        )

    def cancel(self, job_id: int) -> bool:
        """queued or running -> cancelled."""
        return bool(
            self._execute(
                "UPDATE jobs SET state = 'cancelled', finished = ? "
                "WHERE id = ? AND state IN ('queued', 'running')",
                (time.time(), job_id),
            )
        )

    def cancel_queued(self) -> list[int]:
        """Cancel every queued job; returns their ids."""
        with self._tx() as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM jobs WHERE state = 'queued'")]
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', finished = ? WHERE state = 'queued'",
                (time.time(),),
            )
        return ids

    def requeue(self, job_id: int, *, reset_attempts: bool = False) -> bool:
        """done, failed or cancelled -> queued, at the back of its priority band (a retry).

        The last error stays visible until a worker claims the job again.
        """
        with self._tx() as conn:
            state = conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if state is None or state[0] not in FINISHED_STATES:
                return False
            conn.execute(
                "UPDATE jobs SET state = 'queued', seq = ?, done = 0, fps = 0, started = NULL, "
                "finished = NULL, face_frames = NULL, warning = NULL, model_used = NULL, "
                "attempts = CASE WHEN ? THEN 0 ELSE attempts END WHERE id = ?",
                (self._take_seq(conn), reset_attempts, job_id),
            )
        return True

    def release(self, job_id: int) -> bool:
        """running -> queued, keeping its place and not counting the attempt.

        For a job the app interrupted (shutdown, pause race): not the job's fault.
        """
        return bool(
            self._execute(
                "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0), done = 0, "
                "fps = 0, started = NULL WHERE id = ? AND state = 'running'",
                (job_id,),
            )
        )

    def set_output(self, job_id: int, output: Path) -> bool:
        """Move a job's output path (a file took its name; see outputs.next_free)."""
        return bool(self._execute("UPDATE jobs SET output = ? WHERE id = ?", (str(output), job_id)))

    def pending_outputs(self, exclude: int | None = None) -> list[Path]:
        """The output paths of queued and running jobs (other than `exclude`)."""
        rows = self._query(
            "SELECT output FROM jobs WHERE state IN ('queued', 'running') AND id != ?",
            (-1 if exclude is None else exclude,),
        )
        return [Path(output) for (output,) in rows]

    def set_priority(self, job_id: int, priority: int) -> bool:
        return bool(
            self._execute("UPDATE jobs SET priority = ? WHERE id = ?", (int(priority), job_id))
        )

    def set_model(self, job_id: int, model: str, device: str) -> bool:
        """Change the model and device of a job that is not running (a failed job fixed
        before it is retried)."""
        return bool(
            self._execute(
                "UPDATE jobs SET model = ?, device = ? WHERE id = ? AND state != 'running'",
                (model, device, job_id),
            )
        )

    def set_face(self, job_id: int, face: str) -> bool:
        """Choose which face a job that is not running animates (`RenderSettings.face`,
        validated by the caller); a finished job takes it on its next retry."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT settings FROM jobs WHERE id = ? AND state != 'running'", (job_id,)
            ).fetchone()
            if row is None:
                return False
            settings = json.loads(row[0])
            settings["face"] = face
            conn.execute(
                "UPDATE jobs SET settings = ? WHERE id = ?", (_encode_settings(settings), job_id)
            )
        return True

    def remove(self, job_id: int) -> bool:
        """Delete a job that is not running (cancel a running one first)."""
        return bool(
            self._execute("DELETE FROM jobs WHERE id = ? AND state != 'running'", (job_id,))
        )

    def clear_done(self) -> int:
        """Delete every done job; returns how many."""
        return self._execute("DELETE FROM jobs WHERE state = 'done'")

    def recover_after_crash(self, max_attempts: int | None = None) -> list[Job]:
        """Put jobs a dead process left 'running' back in the queue; delete their temporaries.

        They keep their place. With `max_attempts`, a job already claimed that many times
        is failed instead: a job that takes the whole app down must not do so forever.
        Call it only when no other process is running jobs from this store.
        """
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM jobs WHERE state = 'running' ORDER BY id"
            ).fetchall()
            now = time.time()
            for job in map(_row_to_job, rows):
                outputs.remove_temps(job.output)  # those of processes that are gone
                if max_attempts is not None and job.attempts >= max_attempts:
                    conn.execute(
                        "UPDATE jobs SET state = 'failed', finished = ?, error = ?, "
                        "error_kind = 'interrupted' WHERE id = ?",
                        (
                            now,
                            f"interrupted {job.attempts} times (app crashed or was killed)",
                            job.id,
                        ),
                    )
                else:
                    conn.execute(
                        "UPDATE jobs SET state = 'queued', done = 0, fps = 0, started = NULL "
                        "WHERE id = ?",
                        (job.id,),
                    )
            ids = [r[0] for r in rows]
            recovered = (
                [
                    _row_to_job(r)
                    for r in conn.execute(
                        f"SELECT {_COLUMNS} FROM jobs WHERE id IN ({', '.join('?' * len(ids))}) "
                        "ORDER BY id",
                        ids,
                    )
                ]
                if ids
                else []
            )
        if recovered:
            log.info("recovered %d job(s) left running by a previous run", len(recovered))
        return recovered
