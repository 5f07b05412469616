"""Checks for the CI smoke of the frozen bundle (installer/ci_smoke.sh). Standard library only.

    python installer/smoke_check.py unzip ZIP DEST          extract, keeping symlinks and modes
    python installer/smoke_check.py bundle DIR              required files present, junk absent
    python installer/smoke_check.py media OUT.mp4 --cli CLI --audio AUDIO
                                                            OUT has H.264 video + AAC audio and is
                                                            as long as AUDIO (probed by the
                                                            bundle's own `probe` command)

Exit status 0 when the check holds; 1 with one line per problem on stderr otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

# Paths under the bundle folder that must exist (a glob each). The Haar cascades are the
# offline face detector; the provider library is ONNX Runtime's; av.libs is PyAV's FFmpeg.
REQUIRED = (
    "lipsync-studio",
    "lipsync-studio-cli",
    "README.txt",
    "_internal/app/resources/models.json",
    "_internal/app/resources/samples/presenter.mp4",
    "_internal/app/resources/samples/speech.wav",
    "_internal/app/resources/icons/lipsync-studio.png",
    "_internal/app/resources/icons/lipsync-studio.ico",
    "_internal/app/resources/i18n/lipsync_studio_zh_CN.qm",  # 简体中文: ours, and Qt's own
    "_internal/PySide6/Qt/translations/qtbase_zh_CN.qm",  # standard dialogs' buttons
    "_internal/cv2/data/haarcascade_frontalface_default.xml",
    "_internal/cv2/data/haarcascade_eye.xml",
    "_internal/onnxruntime/capi/*onnxruntime*",
    "_internal/av.libs/libavcodec*",
    "_internal/PySide6/Qt/plugins/platforms/*offscreen*",
    "_internal/PySide6/Qt/plugins/multimedia/*ffmpeg*",
    "_internal/PySide6/Qt/lib/*Qt6Multimedia*",
)
REQUIRED_LINUX = ("lipsync-studio.desktop", "lipsync-studio.png", "install-desktop-entry.sh")
FORBIDDEN = (
    "_internal/scipy",
    "_internal/numba",
    "_internal/llvmlite",
    "_internal/librosa",
    "_internal/onnx",
    "_internal/pytest",
    "_internal/_pytest",
    "_internal/PIL",
    "_internal/lib-dynload/_tkinter*",
    "_internal/tcl*",
    "_internal/tk*",
    "_internal/**/*WebEngine*",
    "_internal/**/*Qt6Charts*",
    "_internal/**/*Qt63D*",
    "_internal/**/*DataVisualization*",
    "_internal/**/*Qt6Designer*",
    "_internal/PySide6/Qt/plugins/platformthemes/*gtk3*",
)


def fail(problems: list[str]) -> int:
    for p in problems:
        print(f"smoke_check: {p}", file=sys.stderr)
    return 1 if problems else 0


# --------------------------------------------------------------------------- unzip


def unzip(archive: Path, dest: Path) -> int:
    """Extract like `unzip`: symlinks as symlinks, unix modes kept (zipfile alone does neither)."""
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = (dest / info.filename).resolve()
            if root not in target.parents and target != root:
                return fail([f"{archive}: entry {info.filename!r} escapes the folder"])
            mode = info.external_attr >> 16
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif stat.S_ISLNK(mode):
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(zf.read(info).decode("utf-8"), dest / info.filename)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                if mode & 0o777:
                    target.chmod(mode & 0o777)
    print(f"extracted {archive} into {dest}")
    return 0


# --------------------------------------------------------------------------- bundle


def check_bundle(folder: Path) -> int:
    problems = []
    required = REQUIRED + (REQUIRED_LINUX if sys.platform.startswith("linux") else ())
    for pattern in required:
        if not any(folder.glob(pattern)):
            problems.append(f"{folder}: nothing matches {pattern} (required)")
    for pattern in FORBIDDEN:
        found = sorted(folder.glob(pattern))
        if found:
            problems.append(f"{folder}: {found[0].relative_to(folder)} must not be bundled")
    broken = [p for p in folder.rglob("*") if p.is_symlink() and not p.exists()]
    problems += [f"{folder}: dangling symlink {p.relative_to(folder)}" for p in broken[:10]]
    if not problems:
        print(
            f"{folder}: {len(required)} required paths present, nothing forbidden, "
            f"no dangling symlinks"
        )
    return fail(problems)


# --------------------------------------------------------------------------- media


def probe(cli: Path, path: Path) -> dict:
    result = subprocess.run(
        [str(cli), "probe", str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode:
        raise RuntimeError(
            f"`{cli.name} probe {path}` failed ({result.returncode}): "
            f"{result.stderr.strip()[-500:]}"
        )
    return json.loads(result.stdout)


def check_media(out: Path, cli: Path, audio: Path) -> int:
    if not out.is_file() or out.stat().st_size == 0:
        return fail([f"{out}: missing or empty"])
    try:
        info, ref = probe(cli, out), probe(cli, audio)
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
        return fail([str(exc)])
    problems = []
    video, sound = info.get("video"), info.get("audio")
    want = float((ref.get("audio") or {}).get("duration") or ref.get("duration") or 0)
    if want <= 0:
        problems.append(f"{audio}: no audio duration in {ref}")
    if not video:
        problems.append(f"{out}: no video stream")
    else:
        fps = float(video.get("fps") or 0)
        if video.get("codec") != "h264":
            problems.append(f"{out}: video codec {video.get('codec')}, expected h264")
        if not (video.get("width", 0) > 0 and video.get("height", 0) > 0 and fps > 0):
            problems.append(f"{out}: bad video geometry {video}")
        tolerance = max(2.0 / fps if fps else 0.1, 0.1)  # frame rounding + AAC priming
        vdur = float(video.get("duration") or 0)
        if abs(vdur - want) > tolerance:
            problems.append(f"{out}: video lasts {vdur:.3f} s, the audio {want:.3f} s")
        frames = int(video.get("frame_count") or 0)
        if fps and abs(frames - want * fps) > 2:
            problems.append(
                f"{out}: {frames} frames; {want:.3f} s at {fps:g} fps is {want * fps:.0f}"
            )
    if not sound:
        problems.append(f"{out}: no audio stream")
    else:
        if sound.get("codec") != "aac":
            problems.append(f"{out}: audio codec {sound.get('codec')}, expected aac")
        adur = float(sound.get("duration") or 0)
        if abs(adur - want) > 0.1:
            problems.append(f"{out}: audio lasts {adur:.3f} s, the input {want:.3f} s")
    if not problems:
        print(
            f"{out}: h264 {video['width']}x{video['height']} {video['fps']:g} fps, "
            f"{video['frame_count']} frames, {video['duration']:.2f} s + aac "
            f"{sound['duration']:.2f} s; input audio {want:.2f} s"
        )
    return fail(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("unzip")
    p.add_argument("archive", type=Path)
    p.add_argument("dest", type=Path)
    p = sub.add_parser("bundle")
    p.add_argument("folder", type=Path)
    p = sub.add_parser("media")
    p.add_argument("output", type=Path)
    p.add_argument("--cli", type=Path, required=True, help="the bundle's CLI executable")
    p.add_argument("--audio", type=Path, required=True, help="the speech track rendered")
    args = parser.parse_args(argv)
    if args.what == "unzip":
        return unzip(args.archive, args.dest)
    if args.what == "bundle":
        return check_bundle(args.folder)
    return check_media(args.output, args.cli, args.audio)


if __name__ == "__main__":
    sys.exit(main())
