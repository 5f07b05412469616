"""The fault corpus: what a creator can get wrong, and what the CLI must do about it.

A case = a maker (writes the inputs into an empty folder, the command's working folder),
a command line (paths relative to that folder), the exit code, a pattern the error
output must match, and the output path that must NOT exist after a failure. The runner
(test_corpus.py) also checks, for every case: no traceback, every input file unchanged
(sha256) and still there, no temporary file left beside the output.

To add a case: a maker in makers.py if none fits, then a `Fault(...)` line below. The
`item` names the issue-11 item (or area) the case stands for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults import makers as m

DRAFT = ("--model", "draft", "--detector", "haar")
LONG_NAME = "n" * 248 + ".mp4"  # 252 characters: a valid name on every file system


@dataclass(frozen=True)
class Fault:
    name: str
    item: str
    make: Callable[[Path], None]
    argv: tuple[str, ...]
    code: int
    says: str = ""  # regex the stderr must match (re.search)
    output: str | None = "out.mp4"  # must not exist after a failure (None: no output)
    env: dict[str, str] = field(default_factory=dict)  # "{folder}" is the case's folder
    absent: tuple[str, ...] = ()  # paths that must not exist afterwards, whatever the code


def render(*extra: str, video: str = "talk.mp4", audio: str = "voice.wav", out: str = "out.mp4"):
    return ("render", "--video", video, "--audio", audio, "-o", out, *DRAFT, *extra)


CASES: tuple[Fault, ...] = (
    # -- inputs that are not what they say ------------------------------------------------
    Fault(
        "video-missing", "inputs", m.pair, render(video="nope.mp4"), 2, r"nope\.mp4: file not found"
    ),
    Fault(
        "audio-missing", "inputs", m.pair, render(audio="nope.wav"), 2, r"nope\.wav: file not found"
    ),
    Fault(
        "video-empty",
        "inputs",
        m.pair_with(empty_DOT_mp4=b""),
        render(video="empty.mp4"),
        2,
        r"empty\.mp4: file is empty",
    ),
    Fault(
        "video-random-bytes",
        "inputs",
        m.pair_with(junk_DOT_mp4=bytes(range(256)) * 40),
        render(video="junk.mp4"),
        2,
        r"junk\.mp4",
    ),
    Fault(
        "audio-is-text",
        "inputs",
        m.pair_with(notes_DOT_wav=b"just some notes\n" * 50),
        render(audio="notes.wav"),
        2,
        r"notes\.wav",
    ),
    Fault(
        "video-is-folder",
        "inputs",
        m.pair_with(clips__keep_DOT_txt=b"x"),
        render(video="clips"),
        2,
        r"clips: is a folder",
    ),
    Fault(
        "video-has-no-picture",
        "inputs",
        m.no_video_stream,
        render(video="talk.m4a"),
        2,
        r"talk\.m4a: has no video stream",
    ),
    Fault(
        "audio-has-no-sound",
        "inputs",
        m.silent_video_as_audio,
        render(audio="quiet.mp4"),
        2,
        r"quiet\.mp4: has no audio stream",
    ),
    Fault("audio-too-short", "inputs", m.short_audio, render(), 2, r"voice\.wav: audio too short"),
    Fault("video-cut-mid-copy", "14", m.cut_mp4, render(), 2, r"talk\.mp4: truncated or corrupt"),
    Fault(
        "video-index-cut",
        "14",
        m.cut_index,
        render(),
        2,
        r"talk\.mp4: truncated or corrupt \(the file ends at byte \d+, inside its index",
    ),
    # Noise over a third of an MKV: FFmpeg conceals it and stops early; one line says so.
    Fault(
        "video-bit-rot",
        "14",
        m.bit_rot,
        render(video="talk.mkv"),
        0,
        r"warning: talk\.mkv: only \d+ of about 50 frames decode \(damaged or cut short\?\)",
    ),
    # -- where the output goes --------------------------------------------------------------
    Fault(
        "output-not-mp4",
        "output",
        m.pair,
        render(out="out.mov"),
        2,
        r"out\.mov: the output must be an \.mp4",
        output="out.mov",
    ),
    Fault(
        "output-is-the-input",
        "1",
        m.pair,
        render(out="talk.mp4"),
        2,
        r"talk\.mp4: the output path is an input",
        output=None,
    ),
    Fault(
        "output-folder-missing",
        "output",
        m.pair,
        render(out="later/out.mp4"),
        2,
        r"later/out\.mp4: folder later does not exist",
        output="later/out.mp4",
    ),
    Fault(
        "output-is-a-folder",
        "5",
        m.output_folder_exists,
        render(),
        2,
        r"out\.mp4: is a folder",
        output=None,
    ),
    Fault("input-named-like-a-temporary", "1", m.download_named, render(video="talk.mp4.part"), 0),
    Fault("output-replaces-an-earlier-one", "2", m.existing_output, render(), 0),
    Fault(
        "output-name-252-characters", "14", m.long_names, render(out=LONG_NAME), 0, output=LONG_NAME
    ),
    # -- options ------------------------------------------------------------------------------
    Fault("crf-out-of-range", "8", m.pair, render("--crf", "99"), 2, r"--crf 99"),
    Fault("detect-every-zero", "8", m.pair, render("--detect-every", "0"), 2, r"--detect-every"),
    Fault("batch-size-negative", "8", m.pair, render("--batch-size", "-5"), 2, r"--batch-size"),
    Fault(
        "batch-size-huge",
        "8",
        m.pair,
        render("--batch-size", "99999999999999999999"),
        2,
        r"--batch-size",
    ),
    Fault("device-gpu", "8", m.pair, render("--device", "gpu"), 2, r"--device: 'gpu'"),
    Fault("device-cpu-1", "8", m.pair, render("--device", "cpu:1"), 2, r"--device: 'cpu:1'"),
    Fault("device-cuda-draft", "8", m.pair, render("--device", "cuda"), 2, r"cuda"),
    Fault(
        "device-cuda-minus-one",
        "8",
        m.pair,
        render("--device", "cuda:-1"),
        2,
        r"--device: 'cuda:-1'",
    ),
    Fault("model-unknown", "options", m.pair, render("--model", "wav3lip"), 2, r"wav3lip"),
    Fault(
        "model-not-installed",
        "options",
        m.pair,
        render("--model", "wav2lip_96"),
        2,
        r"wav2lip_96.*models pull wav2lip_96",
    ),
    Fault(
        "detector-yunet-missing",
        "14",
        m.pair,
        (
            "render",
            "--video",
            "talk.mp4",
            "--audio",
            "voice.wav",
            "-o",
            "out.mp4",
            "--model",
            "draft",
            "--detector",
            "yunet",
        ),
        2,
        r"(?i)yunet.*models pull",
    ),
    # -- what the model and the audio do ------------------------------------------------------
    Fault(
        "model-outputs-nan",
        "7",
        m.nan_model,
        (
            "render",
            "--video",
            "face.png",
            "--audio",
            "voice.wav",
            "-o",
            "out.mp4",
            "--model",
            "nanny",
            "--detector",
            "haar",
        ),
        2,
        r"nanny\.onnx: the model returned NaN",
    ),
    Fault(
        "wav-cut-short",
        "10",
        m.truncated_wav,
        render(),
        0,
        r"voice\.wav: the file says it lasts 4\.00 s but only 1\.30 s decode",
    ),
    Fault(
        "mp3-cut-in-half",
        "10",
        m.truncated_mp3,
        render(audio="voice.mp3"),
        0,
        r"voice\.mp3: the file says it lasts 4\.0\d s but only 1\.9\d s decode",
    ),
    # -- the queue and the data folder ----------------------------------------------------------
    Fault(
        "queue-cancel-huge-id",
        "8",
        m.pair,
        ("queue", "cancel", "99999999999999999999"),
        2,
        r"ID",
        output=None,
    ),
    Fault(
        "queue-retry-not-a-number",
        "8",
        m.pair,
        ("queue", "retry", "seven"),
        2,
        r"seven",
        output=None,
    ),
    Fault(
        "queue-cancel-unknown",
        "queue",
        m.pair,
        ("queue", "cancel", "42"),
        2,
        r"no job 42",
        output=None,
    ),
    Fault(
        "batch-priority-huge",
        "8",
        m.batch_inputs,
        (
            "batch",
            "--videos",
            "talks/*.mp4",
            "--audios",
            "voices/*.wav",
            "--out",
            "renders",
            "--priority",
            "-99999999999999999999",
        ),
        2,
        r"--priority",
        output="renders",
    ),
    Fault(
        "batch-videos-match-nothing",
        "batch",
        m.batch_inputs,
        ("batch", "--videos", "talkz/*.mp4", "--audios", "voices/*.wav", "--out", "renders"),
        2,
        r"matches no file",
        output="renders",
    ),
    Fault(
        "batch-out-is-a-file",
        "batch",
        m.pair_with(renders=b"a file"),
        ("batch", "--videos", "talk.mp4", "--audios", "voice.wav", "--out", "renders"),
        2,
        r"renders: is a file",
        output=None,
    ),
    Fault(
        "batch-name-not-mp4",
        "batch",
        m.batch_inputs,
        (
            "batch",
            "--videos",
            "talks/*.mp4",
            "--audios",
            "voices/*.wav",
            "--out",
            "renders",
            "--name",
            "{video}.mov",
        ),
        2,
        r"\.mp4",
        output="renders",
    ),
    Fault(
        "queue-db-random-bytes",
        "9",
        m.queue_db(bytes(range(256)) * 64),
        ("queue", "list"),
        0,
        r"jobs\.sqlite3.*damaged.*moved",
        output=None,
    ),
    Fault(
        "queue-db-cut-in-half",
        "9",
        m.queue_db(cut=True),
        ("queue", "list"),
        0,
        r"jobs\.sqlite3.*damaged.*moved",
        output=None,
    ),
    Fault(
        "data-folder-is-a-file",
        "9",
        m.pair_with(home=b"a file"),
        ("queue", "list"),
        2,
        r"home/data",
        output=None,
        env={"LIPSYNC_STUDIO_HOME": "home"},
    ),
    Fault(
        "batch-out-with-a-quoted-tilde",
        "14",
        m.pair,
        ("batch", "--videos", "talk.mp4", "--audios", "voice.wav", "--out", "~/renders"),
        0,
        r"queued 1 job",
        output="home/renders",
        env={"HOME": "{folder}/home"},
        absent=("~",),
    ),
    # -- models ------------------------------------------------------------------------------------
    Fault(
        "import-a-folder",
        "14",
        m.model_folder,
        ("models", "import", "weights.onnx", "--as", "mine", "--family", "wav2lip"),
        2,
        r"weights\.onnx: is a folder",
        output=None,
    ),
    Fault(
        "import-missing",
        "models",
        m.pair,
        ("models", "import", "gone.onnx"),
        2,
        r"gone\.onnx: no such file",
        output=None,
    ),
    Fault(
        "import-not-a-model",
        "14",
        m.pair_with(fake_DOT_onnx=b"not a model" * 100),
        ("models", "import", "fake.onnx", "--as", "mine", "--family", "wav2lip"),
        2,
        r"^lipsync-studio: error: fake\.onnx[^\n]*$",
        output=None,
    ),
    Fault(
        "pull-unknown-model",
        "models",
        m.pair,
        ("models", "pull", "wav3lip"),
        2,
        r"wav3lip",
        output=None,
    ),
    # -- probe ---------------------------------------------------------------------------------
    Fault(
        "probe-missing",
        "probe",
        m.pair,
        ("probe", "nope.mp4"),
        2,
        r"nope\.mp4: file not found",
        output=None,
    ),
    Fault(
        "probe-wav-cut-short",
        "10",
        m.truncated_wav,
        ("probe", "voice.wav"),
        0,
        r"voice\.wav: the file says it lasts 4\.00 s but only 1\.30 s decode",
        output=None,
    ),
)
