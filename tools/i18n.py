"""Translations: extract the app's strings and compile the catalogues.

    .venv/bin/python tools/i18n.py            # lupdate → resources/i18n/*.ts, lrelease → .qm
    .venv/bin/python tools/i18n.py --check    # CI: fail if a .ts or .qm is out of date

pyside6-lupdate reads every `self.tr(...)` and `translate("Context", ...)` in app/ui;
translators edit the .ts (Qt Linguist, or by hand); pyside6-lrelease compiles the .qm the
app loads (app/ui/i18n.py). Both files are committed: the .qm ships in the wheel and the
bundle without a build step there. --check fails on a string with no translation too.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "app" / "ui"
I18N = REPO / "resources" / "i18n"
CATALOGUE = "lipsync_studio"
LANGUAGES = ("zh_CN",)


def tool(name: str) -> str:
    """pyside6-lupdate / -lrelease beside this interpreter (the venv), else on PATH."""
    local = Path(sys.executable).with_name(f"pyside6-{name}")
    found = str(local) if local.exists() else shutil.which(f"pyside6-{name}")
    if not found:
        raise SystemExit(f"pyside6-{name} not found: install PySide6 in this environment")
    return found


def sources() -> list[str]:
    return [str(p) for p in sorted(SOURCES.glob("*.py"))]


def lupdate(ts: Path) -> None:
    subprocess.run(
        [tool("lupdate"), "-no-obsolete", "-locations", "none", *sources(), "-ts", str(ts)],
        check=True,
        capture_output=True,
    )


def lrelease(ts: Path, qm: Path) -> None:
    """Compile beside the target, then rename over it: a running app maps the old .qm,
    and rewriting a mapped file in place kills that process (SIGBUS)."""
    staged = qm.with_name(qm.name + ".new")
    subprocess.run([tool("lrelease"), str(ts), "-qm", str(staged)], check=True, capture_output=True)
    staged.replace(qm)


def unfinished(ts: Path) -> list[str]:
    """Source texts with no finished translation."""
    out = []
    for message in ET.parse(ts).getroot().iter("message"):
        translation = message.find("translation")
        if (
            translation is None
            or translation.get("type") == "unfinished"
            or not (translation.text or "").strip()
        ):
            out.append(message.findtext("source") or "")
    return out


def check() -> list[str]:
    problems = []
    for lang in LANGUAGES:
        ts = I18N / f"{CATALOGUE}_{lang}.ts"
        qm = I18N / f"{CATALOGUE}_{lang}.qm"
        if not ts.is_file() or not qm.is_file():
            problems.append(f"{ts.name} or {qm.name} is missing: run tools/i18n.py")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            fresh_ts = Path(tmp) / ts.name
            shutil.copy(ts, fresh_ts)
            lupdate(fresh_ts)
            if fresh_ts.read_bytes() != ts.read_bytes():
                problems.append(f"{ts.name} is out of date with the code: run tools/i18n.py")
            missing = unfinished(fresh_ts)
            if missing:
                listed = "\n  ".join(missing[:20])
                problems.append(f"{ts.name}: {len(missing)} string(s) untranslated:\n  {listed}")
            fresh_qm = Path(tmp) / qm.name
            lrelease(ts, fresh_qm)
            if fresh_qm.read_bytes() != qm.read_bytes():
                problems.append(f"{qm.name} is not compiled from {ts.name}: run tools/i18n.py")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if anything is out of date")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    I18N.mkdir(parents=True, exist_ok=True)
    for lang in LANGUAGES:
        ts = I18N / f"{CATALOGUE}_{lang}.ts"
        lupdate(ts)
        lrelease(ts, I18N / f"{CATALOGUE}_{lang}.qm")
        left = unfinished(ts)
        print(f"{ts.relative_to(REPO)}: {len(left)} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
