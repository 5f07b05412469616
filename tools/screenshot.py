"""Render the bundled sample in the desktop app and grab the window at ~30 % done.

    .venv/bin/python tools/screenshot.py                # -> docs/screenshot.png
    .venv/bin/python tools/screenshot.py --at 0.5 --out /tmp/shot.png

Runs offscreen by default (no display needed; set QT_QPA_PLATFORM=xcb with DISPLAY to
use a real or Xvfb display). Everything the app writes goes to a temporary
LIPSYNC_STUDIO_HOME, never the user's data. The presenter clip is queued with the
sample speech and with its two halves (one video + several audios -> a job per audio),
with the draft model, so the screenshot shows a small batch mid-render.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def split_audio(source: Path, folder: Path) -> list[Path]:
    """The speech and its two halves as separate WAV files (more jobs for the batch)."""
    import av
    import numpy as np

    from app.engine.render import media

    rate = 22_050
    samples = media.load_audio(source, rate)
    half = len(samples) // 2
    out = []
    for name, part in (("speech_part1", samples[:half]), ("speech_part2", samples[half:])):
        path = folder / f"{name}.wav"
        pcm = (np.clip(part, -1, 1) * 32767).astype(np.int16)[None, :]
        with av.open(str(path), "w") as container:
            stream = container.add_stream("pcm_s16le", rate=rate)
            stream.layout = "mono"
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = 0
            container.mux(stream.encode(frame))
            container.mux(stream.encode())
        out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--at", type=float, default=0.3, help="fraction done to grab at")
    parser.add_argument("--size", default="1440x860", help="window size WxH")
    parser.add_argument("--timeout", type=float, default=300, help="give up after (s)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="lipsync-screenshot-"))
    os.environ["LIPSYNC_STUDIO_HOME"] = str(home)
    sys.path.insert(0, str(REPO))

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.engine.queue.joblog import setup_logging
    from app.engine.queue.jobstore import JobStore
    from app.ui.app_settings import AppSettings, open_settings
    from app.ui.main_window import MainWindow

    setup_logging()
    app = QApplication([sys.argv[0]])
    app.setApplicationDisplayName("Lipsync Studio")
    samples = REPO / "app" / "resources" / "samples"
    media_dir = home / "media"
    media_dir.mkdir()
    audios = [samples / "speech.wav", *split_audio(samples / "speech.wav", media_dir)]
    settings = AppSettings(
        model="draft",
        detector="auto",
        device="cpu",
        output_dir=str(home / "renders"),
        preset="veryfast",
    )
    qsettings = open_settings()
    settings.save(qsettings)
    store = JobStore()
    window = MainWindow(store, qsettings)
    window.resize(width, height)
    window.show_job_log(None)
    window.resizeDocks([window.log_dock], [170], Qt.Orientation.Vertical)
    window.show()
    result = {"code": 1}

    def grab_when_ready(job_id: int, progress: object) -> None:
        fraction = getattr(progress, "fraction", 0.0)
        if fraction < args.at or window.preview.mode != "live" or result["code"] == 0:
            return
        window.update_summary()
        window.log_panel.refresh()
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
    window.add_paths([samples / "presenter.mp4", *audios])

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
