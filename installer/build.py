"""Build the desktop bundle for this platform: one folder, two executables, one zip.

    python installer/build.py [--flavour cpu|cuda|directml] [--with-models NAME,NAME,...]
                              [--allow-non-commercial] [--clean] [--no-zip]

Run it with the Python of the environment to freeze (`.venv/bin/python installer/build.py`):
PyInstaller bundles what is installed there. That environment must hold exactly the ONNX
Runtime flavour asked for (cpu: onnxruntime, cuda: onnxruntime-gpu, directml:
onnxruntime-directml); this script refuses otherwise and never changes the environment.

Output (dist/ and build/ are git-ignored):
    dist/lipsync-studio/                                  the bundle folder
    dist/lipsync-studio-<version>-<platform>-<flavour>.zip   the same folder, zipped

--with-models puts registry models under app/resources/models/ in the bundle, where
app.engine.models.registry finds them as a read-only second location behind the user's model
folder. Each is taken from this machine's model folder when installed and verified there
(LIPSYNC_STUDIO_HOME moves that folder), else downloaded and verified first. Without
models the bundle still works offline: the draft model and the YuNet face detector ship
as package data (app/resources/models/); naming YuNet here is a no-op.

Exit status: 0 built; 1 the bundle is incomplete (a module of `app` is missing, a
forbidden package slipped in); 2 refused (wrong flavour, unknown model, missing tools).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "installer" / "lipsync-studio.spec"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
BUNDLE_NAME = "lipsync-studio"
ICON_PNG = ROOT / "app" / "resources" / "icons" / "lipsync-studio.png"
SHIPPED_MODELS = ROOT / "app" / "resources" / "models"  # package data: always in the bundle

# onnxruntime distribution -> flavour. They all install the same `onnxruntime` package and
# overwrite each other's files, so an environment must hold exactly one.
ORT_FLAVOURS = {"onnxruntime": "cpu", "onnxruntime-gpu": "cuda", "onnxruntime-directml": "directml"}
FLAVOUR_DIST = {flavour: dist for dist, flavour in ORT_FLAVOURS.items()}
FLAVOUR_EXTRA = {"cpu": "package", "cuda": "package,cuda", "directml": "package,directml"}
FLAVOUR_PROVIDER = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "directml": "DmlExecutionProvider",
}
FLAVOUR_PLATFORMS = {
    "cpu": ("linux", "win32", "darwin"),
    "cuda": ("linux", "win32"),
    "directml": ("win32",),
}

# Top-level packages that must never be in the bundle (dev/test tools, unused heavy libs).
FORBIDDEN_MODULES = (
    "ray",
    "pytest",
    "_pytest",
    "pytestqt",
    "librosa",
    "numba",
    "llvmlite",
    "scipy",
    "onnx",
    "tkinter",
    "_tkinter",
    "matplotlib",
    "PIL",
    "IPython",
    "tests",
    "bench",
)
# The render farm stays out: a cluster node is a pip install with the farm extra.
FORBIDDEN_SUBMODULES = ("tests.support.standins", "app.engine.farm")
FORBIDDEN_FILES = re.compile(
    r"(QtWebEngine|Qt6WebEngine|Qt3D|Qt6Charts|QtCharts|"
    r"DataVisualization|Qt6Designer|QtDesigner|libtk|libtcl|_tkinter)"
)

DESKTOP_ENTRY = """\
[Desktop Entry]
Type=Application
Version=1.0
Name=Lipsync Studio
GenericName=Lip-sync video tool
Comment=Lip-sync a presenter video to a speech track, offline
Exec=lipsync-studio %F
Icon=lipsync-studio
Terminal=false
Categories=AudioVideo;Video;AudioVideoEditing;
MimeType=video/mp4;video/quicktime;video/x-matroska;video/webm;video/x-msvideo;\
audio/wav;audio/x-wav;audio/mpeg;audio/flac;audio/ogg;audio/mp4;
StartupWMClass=lipsync-studio
"""

INSTALL_DESKTOP_SH = """\
#!/bin/sh
# Add Lipsync Studio to this user's application menu (no root needed), or take it out:
#   ./install-desktop-entry.sh            install (run it again after moving this folder)
#   ./install-desktop-entry.sh --remove   remove
set -eu
here=$(cd "$(dirname "$0")" && pwd)
apps=${XDG_DATA_HOME:-$HOME/.local/share}/applications
icons=${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps
if [ "${1:-}" = "--remove" ]; then
    rm -f "$apps/lipsync-studio.desktop" "$icons/lipsync-studio.png"
    echo "removed the menu entry"
    exit 0
fi
mkdir -p "$apps" "$icons"
cp "$here/lipsync-studio.png" "$icons/lipsync-studio.png"
sed -e "s|^Exec=.*|Exec=\\"$here/lipsync-studio\\" %F|" \\
    -e "s|^Icon=.*|Icon=$here/lipsync-studio.png|" \\
    "$here/lipsync-studio.desktop" > "$apps/lipsync-studio.desktop"
chmod 644 "$apps/lipsync-studio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$apps" || true
echo "installed $apps/lipsync-studio.desktop -> $here/lipsync-studio"
"""

README_TXT = """\
Lipsync Studio {version} ({platform}, {flavour})
{needs}

Desktop app:   lipsync-studio{exe}
Command line:  lipsync-studio-cli{exe} --help  (render, demo, probe, models, batch, queue;
               with no arguments it opens the desktop app)

Quick check, offline: lipsync-studio-cli demo -o lipsync-demo.mp4
Models: lipsync-studio-cli models list | pull NAME | import FILE --as NAME
{models}{linux}
"""


class Refused(Exception):
    """The build cannot go ahead; the message says why and what to do."""

    @property
    def message(self) -> str:
        return str(self.args[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--flavour",
        choices=sorted(FLAVOUR_DIST),
        default="cpu",
        help="ONNX Runtime flavour; the environment must already have it (default: cpu)",
    )
    parser.add_argument(
        "--with-models",
        default="",
        metavar="NAME,...",
        help="registry models to bundle, comma-separated (e.g. yunet_2026may,edtalk_256)",
    )
    parser.add_argument(
        "--allow-non-commercial",
        action="store_true",
        help="allow bundling models whose licence forbids commercial use",
    )
    parser.add_argument("--clean", action="store_true", help="drop PyInstaller's cache first")
    parser.add_argument("--no-zip", action="store_true", help="build the folder only")
    args = parser.parse_args(argv)
    started = time.monotonic()
    archive = DIST / f"{BUNDLE_NAME}-{version()}-{platform_tag()}-{args.flavour}.zip"
    archive.unlink(missing_ok=True)  # never leave an older build's zip beside a failed one
    try:
        sys.path.insert(0, str(ROOT))
        check_tools()
        needs = check_flavour(args.flavour)
        names = [n.strip() for n in args.with_models.split(",") if n.strip()]
        staged = stage_models(names, args.allow_non_commercial)
        names = sorted(p.stem for p in staged.glob("*.onnx")) if staged else []
        folder = run_pyinstaller(args.flavour, staged, args.clean)
    except Refused as exc:
        print(f"build.py: refused: {exc.message}", file=sys.stderr)
        return 2
    problems = audit(folder, args.flavour)
    finish_folder(folder, args.flavour, names, needs)
    size, files = folder_size(folder)
    print(f"\nbundle: {folder} ({files} files, {size / 1e6:.1f} MB)")
    if problems:
        for p in problems:
            print(f"build.py: error: {p}", file=sys.stderr)
        print(
            "build.py: the bundle is incomplete or holds what it must not; no zip written",
            file=sys.stderr,
        )
        return 1
    if not args.no_zip:
        write_zip(folder, archive)
        print(f"zip:    {archive} ({archive.stat().st_size / 1e6:.1f} MB)")
    print(f"built in {time.monotonic() - started:.0f} s")
    return 0


# --------------------------------------------------------------------------- checks


def check_tools() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        raise Refused(
            f"PyInstaller is not installed in {sys.prefix}. Install the packaging "
            f"extra there: pip install -e '.[package]'"
        ) from None
    try:
        import app  # noqa: F401
    except ImportError as exc:
        raise Refused(
            f"cannot import the app from {ROOT} ({exc}); install it into this "
            f"environment: pip install -e '.[package]'"
        ) from None


def installed_ort() -> list[str]:
    """The onnxruntime distributions installed in this environment (normalised names)."""
    found = set()
    for dist in metadata.distributions():
        name = re.sub(r"[-_.]+", "-", (dist.metadata["Name"] or "").lower())
        if name == "onnxruntime" or name.startswith("onnxruntime-"):
            if name not in ("onnxruntime-tools", "onnxruntime-extensions"):
                found.add(name)
    return sorted(found)


def check_flavour(flavour: str) -> str:
    """Refuse unless this environment holds exactly the onnxruntime of `flavour`; return
    what the bundle needs on the user's machine, in one sentence."""
    bindir = "Scripts" if os.name == "nt" else "bin"
    pip = f".venv-{flavour}/{bindir}/pip"
    steps = [f"python -m venv .venv-{flavour}", f"{pip} install -e '.[{FLAVOUR_EXTRA[flavour]}]'"]
    if flavour != "cpu":  # pyproject's base dependencies pull the CPU onnxruntime in as well
        steps += [
            f"{pip} uninstall -y onnxruntime {FLAVOUR_DIST[flavour]}",
            f"{pip} install {FLAVOUR_DIST[flavour]}",
        ]
    steps.append(f".venv-{flavour}/{bindir}/python installer/build.py --flavour {flavour}")
    recipe = (
        "Build each flavour from its own virtual environment, e.g.\n    "
        + "\n    ".join(steps)
        + "\nDo not swap onnxruntime flavours with pip inside an "
        "environment you use for anything else."
    )
    if sys.platform not in FLAVOUR_PLATFORMS[flavour]:
        raise Refused(
            f"the {flavour} flavour cannot be built on {sys.platform} "
            f"(only on {', '.join(FLAVOUR_PLATFORMS[flavour])})"
        )
    dists = installed_ort()
    wanted = FLAVOUR_DIST[flavour]
    if not dists:
        raise Refused(f"no onnxruntime is installed in {sys.prefix}.\n{recipe}")
    if len(dists) > 1:
        raise Refused(
            f"{sys.prefix} has several onnxruntime flavours installed at once ({', '.join(dists)})."
            f" They share one `onnxruntime` folder and overwrite each other's files, so which "
            f"one would be bundled is an accident. Make an environment that holds only "
            f"{wanted}.\n{recipe}"
        )
    if dists[0] != wanted:
        have = ORT_FLAVOURS.get(dists[0], "other")
        raise Refused(
            f"--flavour {flavour} needs {wanted}, but {sys.prefix} has {dists[0]} "
            f"(the {have} flavour).\n{recipe}"
        )
    import onnxruntime

    providers = onnxruntime.get_available_providers()
    if FLAVOUR_PROVIDER[flavour] not in providers:
        raise Refused(
            f"{wanted} {onnxruntime.__version__} offers {providers}, not "
            f"{FLAVOUR_PROVIDER[flavour]}: the installation is broken.\n{recipe}"
        )
    print(f"onnxruntime: {wanted} {onnxruntime.__version__} ({', '.join(providers)})")
    if flavour == "cuda":
        from onnxruntime.capi import build_and_package_info as info

        cuda = getattr(info, "cuda_version", None) or "(see installer/README.md)"
        cudnn = getattr(info, "cudnn_version", None) or "(see installer/README.md)"
        print(f"onnxruntime: built for CUDA {cuda}, cuDNN {cudnn}")
        return (
            f"Needs an NVIDIA GPU and driver, and the CUDA {cuda} and cuDNN {cudnn} runtime "
            f"libraries on the library path (LD_LIBRARY_PATH on Linux, PATH on Windows): "
            f"they are not bundled. Without them --device auto uses the CPU."
        )
    if flavour == "directml":
        return "Needs Windows 10 (1903) or later and a DirectX 12 GPU; else it uses the CPU."
    return "Runs on the CPU: no GPU needed."


# --------------------------------------------------------------------------- models


def stage_models(names: list[str], allow_non_commercial: bool) -> Path | None:
    """Copy verified model files (+ their records) into build/bundle-models/; None: no models."""
    staged = BUILD / "bundle-models"
    shutil.rmtree(staged, ignore_errors=True)
    if not names:
        return None
    from app.engine.errors import InputError
    from app.engine.models import registry as models

    registry = models.load_registry()
    entries = []
    for name in names:
        if name in models.RESERVED_NAMES:
            raise Refused(f"'{name}' is built in: there is nothing to bundle")
        try:
            entry = registry.get(name)
        except InputError as exc:
            raise Refused(str(exc)) from None
        if entry.custom:
            raise Refused(
                f"{name} is a model imported on this machine, not a registry model: "
                f"only registry models (with a published checksum) can be bundled"
            )
        if entry.non_commercial and not allow_non_commercial:
            raise Refused(
                f"{name} is licensed for non-commercial use only "
                f"({entry.licence_note}). Bundling it makes the package "
                f"non-commercial too; pass --allow-non-commercial if that is meant"
            )
        entries.append(entry)
    for entry in [e for e in entries if (SHIPPED_MODELS / e.file).is_file()]:
        print(f"model:  {entry.name} ships with the app (app/resources/models/): skipped")
    entries = [e for e in entries if not (SHIPPED_MODELS / e.file).is_file()]
    if not entries:
        return None
    staged.mkdir(parents=True)
    notes = []
    for entry in entries:
        path = fetch_verified(entry.name)
        shutil.copy2(path, staged / entry.file)
        record = path.with_name(path.name + ".json")  # models.py keeps the verified sha256 here
        if record.is_file():
            shutil.copy2(record, staged / record.name)
        elif entry.sha256 is None:
            raise Refused(
                f"{entry.name}: {record} is missing; without it a CRC32-only model "
                f"cannot be verified in the bundle. Run `lipsync-studio models "
                f"verify {entry.name}` or pull it again"
            )
        size = (staged / entry.file).stat().st_size
        print(f"model:  {entry.name} ({size / 1e6:.1f} MB, {entry.licence}) from {path}")
        notes.append(f"{entry.name}: {entry.file}, {entry.licence}. {entry.licence_note}")
    (staged / "MODELS.txt").write_text(
        "Models bundled with this build (a copy in your own model folder takes precedence):\n\n"
        + "\n".join(notes)
        + "\n",
        encoding="utf-8",
    )
    return staged


def fetch_verified(name: str) -> Path:
    from app.engine.models import registry as models
    from app.engine.models.download import download

    if models.status(name) == "installed" and models.verify(name):
        return models.resolve(name).path
    print(
        f"model:  {name} is not installed and verified here: downloading it into "
        f"{models.model_path(name).parent}"
    )
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        if time.monotonic() - last[0] > 2 or (total and done >= total):
            last[0] = time.monotonic()
            print(f"        {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))

    try:
        download(name, progress=progress)
    except Exception as exc:  # DownloadError says what to do; anything else is worth the text
        raise Refused(f"cannot get model {name}: {exc}") from None
    if not models.verify(name):
        raise Refused(f"model {name} fails its checksum after download")
    return models.resolve(name).path


# --------------------------------------------------------------------------- build


def run_pyinstaller(flavour: str, staged: Path | None, clean: bool) -> Path:
    env = dict(os.environ)
    env.pop("LIPSYNC_BUNDLE_MODELS", None)
    if staged is not None:
        env["LIPSYNC_BUNDLE_MODELS"] = str(staged)
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(work_dir(flavour)),
        str(SPEC),
    ]
    if clean:
        cmd.insert(3, "--clean")
    print("running:", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
    if result.returncode:
        raise SystemExit(f"build.py: PyInstaller failed (exit status {result.returncode})")
    return DIST / BUNDLE_NAME


def work_dir(flavour: str) -> Path:
    return BUILD / f"pyinstaller-{flavour}"


def bundled_modules(flavour: str) -> set[str]:
    """Module names in the bundle's PYZ, from the table of contents PyInstaller leaves."""
    names: set[str] = set()
    for toc in (work_dir(flavour) / SPEC.stem).glob("PYZ-*.toc"):
        names.update(re.findall(r"\(\s*'([\w.]+)'", toc.read_text(encoding="utf-8")))
    if not names:
        raise SystemExit(f"build.py: no PYZ table of contents under {work_dir(flavour)}")
    return names


def audit(folder: Path, flavour: str) -> list[str]:
    """What is wrong with the bundle: missing app modules, forbidden packages or files."""
    problems = []
    warn = work_dir(flavour) / SPEC.stem / f"warn-{SPEC.stem}.txt"
    if warn.is_file():
        missing = sorted(
            set(
                re.findall(
                    r"missing module named '?(app(?:\.\w+)*)'?", warn.read_text(encoding="utf-8")
                )
            )
        )
        for name in missing:
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_SUBMODULES):
                continue  # left out on purpose (EXCLUDES); the app says how to get it
            hint = (
                " (the desktop app: app/ui/main.py with run_gui())" if name == "app.ui.main" else ""
            )
            problems.append(f"module {name} is missing from the bundle{hint}")
    modules = bundled_modules(flavour)
    for name in sorted(modules):
        top = name.split(".")[0]
        if top in FORBIDDEN_MODULES or any(
            name == f or name.startswith(f + ".") for f in FORBIDDEN_SUBMODULES
        ):
            problems.append(f"module {name} must not be in the bundle (see EXCLUDES in the spec)")
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if FORBIDDEN_FILES.search(rel):
            problems.append(f"file {rel} must not be in the bundle")
    return problems


def finish_folder(folder: Path, flavour: str, names: list[str], needs: str) -> None:
    """Files beside the executables: README.txt; on Linux the menu entry and its icon."""
    exe = ".exe" if sys.platform == "win32" else ""
    linux = ""
    if sys.platform.startswith("linux"):
        shutil.copy2(ICON_PNG, folder / "lipsync-studio.png")
        (folder / "lipsync-studio.desktop").write_text(DESKTOP_ENTRY, encoding="utf-8")
        script = folder / "install-desktop-entry.sh"
        script.write_text(INSTALL_DESKTOP_SH, encoding="utf-8")
        script.chmod(0o755)
        linux = (
            "\nApplication menu (this user): ./install-desktop-entry.sh "
            "(again after moving the folder; --remove to take it out)\n"
        )
    shipped = "Offline out of the box: the draft model and the YuNet face detector ship with it.\n"
    models_line = shipped + (
        f"Bundled models: {', '.join(names)} (see _internal/app/resources/models/MODELS.txt)\n"
        if names
        else ""
    )
    (folder / "README.txt").write_text(
        README_TXT.format(
            version=version(),
            platform=platform_tag(),
            flavour=flavour,
            exe=exe,
            needs=needs,
            models=models_line,
            linux=linux,
        ),
        encoding="utf-8",
    )


def version() -> str:
    """app.__version__, read from the source (the environment may not hold the app yet)."""
    text = (ROOT / "app" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        raise SystemExit("build.py: no __version__ in app/__init__.py")
    return match.group(1)


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    system = "linux" if system.startswith("linux") else system
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def folder_size(folder: Path) -> tuple[int, int]:
    """(bytes, files) of regular files, symlinks not followed (as the zip stores them)."""
    total = files = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            files += 1
    return total, files


def write_zip(folder: Path, archive: Path) -> None:
    """Zip `folder` as its own top-level directory. Symlinks stay symlinks (PyInstaller makes
    them on Linux and macOS; `unzip` restores them), executable bits are kept."""
    tmp = archive.with_name(archive.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(folder.rglob("*")):
            arcname = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            if path.is_symlink():
                info = zipfile.ZipInfo(arcname, date_time=time.localtime(path.lstat().st_mtime)[:6])
                info.create_system = 3  # unix: the mode bits below are read
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, os.readlink(path))
            elif path.is_dir():
                if not any(path.iterdir()):  # others are implied by the files in them
                    zf.writestr(f"{arcname}/", "")
            else:
                zf.write(path, arcname)
    os.replace(tmp, archive)


if __name__ == "__main__":
    sys.exit(main())
