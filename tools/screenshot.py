"""Grab the desktop app with a realistic batch, mid-render: the README's screenshots.

    .venv/bin/python tools/screenshot.py                          # docs/screenshot.png
    .venv/bin/python tools/screenshot.py --lang zh_CN             # docs/screenshot-zh_CN.png
    .venv/bin/python tools/screenshot.py --size 1024x700 --out docs/screenshot-1024.png

The batch: the bundled presenter with long file names, one job done, one done with a
warning (no face found), one failed (its model is not installed), one rendering (grabbed
at ~30 %) with the live preview, one queued. Runs offscreen by default (set
QT_QPA_PLATFORM=xcb with DISPLAY for a real or Xvfb display). Everything the app writes
goes to a temporary LIPSYNC_STUDIO_HOME, never the user's data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

NAMES = {
    "en": {
        "video": "2026-Q3_product-launch_presenter_take-04_final.mp4",
        "audios": (
            "launch-script_part-1_intro_mandarin-voiceover.wav",
            "launch-script_part-2_features_mandarin-voiceover.wav",
        ),
        "done": "launch-script_teaser_15s.wav",
        "warning": "b-roll_city-skyline_no-presenter.mp4",
        "failed": "launch-script_outro_wav2lip-test.wav",
    },
    "zh_CN": {
        "video": "2026年第三季度_新品发布会_口播_第4条_终版.mp4",
        "audios": (
            "发布会讲稿_第一段_开场_普通话配音.wav",
            "发布会讲稿_第二段_功能介绍_普通话配音.wav",
        ),
        "done": "发布会讲稿_预告片_15秒.wav",
        "warning": "空镜_城市天际线_无人物.mp4",
        "failed": "发布会讲稿_结尾_wav2lip测试.wav",
    },
}


def split_audio(source: Path, targets: list[Path]) -> list[Path]:
    """The speech cut into len(targets) consecutive WAV files."""
    import av
    import numpy as np

    from app.engine.render import media

    rate = 22_050
    samples = media.load_audio(source, rate)
    size = len(samples) // len(targets)
    for i, path in enumerate(targets):
        part = samples[i * size : (i + 1) * size]
        pcm = (np.clip(part, -1, 1) * 32767).astype(np.int16)[None, :]
        with av.open(str(path), "w") as container:
            stream = container.add_stream("pcm_s16le", rate=rate)
            stream.layout = "mono"
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = 0
            container.mux(stream.encode(frame))
            container.mux(stream.encode())
    return targets


def finished_jobs(store, settings, media_dir: Path, names: dict, samples: Path) -> None:
    """Jobs the queue ran before: done, done with a warning, failed (as the store keeps them)."""
    from app.engine.queue.jobstore import JobSpec

    presenter = media_dir / names["video"]
    out = settings.output_folder
    out.mkdir(parents=True, exist_ok=True)
    skyline = media_dir / names["warning"]
    shutil.copy(samples / "presenter.mp4", skyline)  # stands in for a clip with no face
    plan = [
        (presenter, media_dir / names["done"], "draft", None),
        (skyline, media_dir / names["audios"][0], "draft", "no face"),
        (presenter, media_dir / names["failed"], "wav2lip_96", "failed"),
    ]
    for video, audio, model, outcome in plan:
        output = out / f"{video.stem}_{audio.stem}.mp4"
        render = settings.render_settings(video, audio, output)
        (job_id,) = store.add_many([JobSpec(render.__class__(**{**vars(render), "model": model}))])
        store.claim_next("cpu")
        if outcome == "failed":
            from app.engine.errors import ModelNotInstalled
            from app.engine.models import registry

            try:
                registry.resolve(model)
                error = "model missing"
            except ModelNotInstalled as exc:
                error = str(exc)
            store.fail(job_id, error)
            continue
        shutil.copy(samples / "presenter.mp4", output)
        store.update_progress(job_id, 375, 375, 24.0)
        if outcome == "no face":
            store.finish(job_id, 0, "no face found in any frame; the video was rendered unchanged")
        else:
            store.finish(job_id, 375)
    with sqlite3.connect(store.path) as db:  # as if they had taken a realistic while
        db.execute("UPDATE jobs SET started = finished - 15.6 WHERE state = 'done'")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--at", type=float, default=0.3, help="fraction done to grab at")
    parser.add_argument("--size", default="1280x760", help="window size WxH")
    parser.add_argument("--lang", default="en", choices=sorted(NAMES))
    parser.add_argument("--timeout", type=float, default=300, help="give up after (s)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    if args.out is None:
        suffix = "" if args.lang == "en" else f"-{args.lang}"
        args.out = REPO / "docs" / f"screenshot{suffix}.png"

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="lipsync-screenshot-"))
    os.environ["LIPSYNC_STUDIO_HOME"] = str(home)
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.engine.logs import setup_logging
    from app.engine.queue.jobstore import JobStore
    from app.ui.app_settings import AppSettings, open_settings
    from app.ui.i18n import install_translators
    from app.ui.main_window import MainWindow

    setup_logging()
    app = QApplication([sys.argv[0]])
    app.setApplicationDisplayName("Lipsync Studio")
    translators = install_translators(app, args.lang)  # noqa: F841 - kept alive
    names = NAMES[args.lang]
    samples = REPO / "app" / "resources" / "samples"
    media_dir = home / "media"
    media_dir.mkdir()
    presenter = media_dir / names["video"]
    shutil.copy(samples / "presenter.mp4", presenter)
    audios = split_audio(
        samples / "speech.wav",
        [media_dir / n for n in (*names["audios"], names["done"], names["failed"])],
    )[:2]
    settings = AppSettings(
        model="draft",
        detector="auto",
        device="cpu",
        output_dir=str(home / "renders"),
        preset="veryfast",
        language=args.lang,
    )
    qsettings = open_settings()
    settings.save(qsettings)
    store = JobStore()
    finished_jobs(store, settings, media_dir, names, samples)
    window = MainWindow(store, qsettings)
    window.resize(width, height)
    window.show()
    result = {"code": 1}

    def grab_when_ready(job_id: int, progress: object) -> None:
        fraction = getattr(progress, "fraction", 0.0)
        if fraction < args.at or window.preview.mode != "live" or result["code"] == 0:
            return
        window.update_summary()
        app.processEvents()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(args.out)):
            print(f"screenshot: cannot write {args.out}", file=sys.stderr)
        else:
            print(f"screenshot: {args.out} at {fraction:.0%} of job {job_id}")
            result["code"] = 0
        window.shutdown()  # stop the render now: quitting closes the window, which would ask
        QTimer.singleShot(0, app.quit)

    def start_when_added(ids: list[int]) -> None:
        window.select_job(ids[0])
        window.act_start.trigger()

    window.intake.jobs_added.connect(start_when_added)
    window.bridge.progress.connect(grab_when_ready)
    window.add_paths([presenter, *audios])

    def give_up() -> None:
        print(f"screenshot: not {args.at:.0%} done after {args.timeout:g} s", file=sys.stderr)
        window.shutdown()
        app.quit()

    QTimer.singleShot(int(args.timeout * 1000), give_up)
    app.exec()
    window.shutdown()
    store.close()
    return result["code"]


if __name__ == "__main__":
    sys.exit(main())
