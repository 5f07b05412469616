"""Runs every case of the fault corpus (cases.py) through the real CLI entry point.

Each case runs in its own empty folder (the working folder), with the app's data in the
test's own LIPSYNC_STUDIO_HOME. Checked for every case: the exit code, the message, no
traceback, every input unchanged (sha256) and still there, nothing at the output path
after a failure (a finished file after a success), no temporary file left beside it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from app.cli import main
from app.engine import outputs
from tests.faults.cases import CASES, Fault


def snapshot(folder: Path) -> dict[Path, str]:
    return {
        p.relative_to(folder): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_main(argv: tuple[str, ...]) -> int:
    try:
        return main(list(argv))
    except SystemExit as exc:  # argparse's own errors (exit 2) and --help
        return int(exc.code or 0)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fault(case: Fault, tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "case"
    folder.mkdir()
    case.make(folder)
    before = snapshot(folder)
    monkeypatch.chdir(folder)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value.format(folder=folder))

    code = run_main(case.argv)  # an exception escaping main() is the traceback a user sees
    err = capsys.readouterr().err

    assert code == case.code, err
    assert "Traceback" not in err, err
    assert re.search(case.says, err, re.MULTILINE), err
    after = snapshot(folder)
    for path, digest in before.items():
        if case.output is not None and path == Path(case.output):
            continue  # the output itself (a file replaced on purpose)
        assert after.get(path) == digest, f"input {path} was changed or removed"
    if case.output is not None:
        output = folder / case.output
        if case.code == 0:
            assert output.exists() and (output.is_dir() or output.stat().st_size > 0)
        else:
            assert not output.exists() or output.is_dir() and not output.is_file()
        assert not outputs.temps_of(output), "a temporary file was left beside the output"
    for path in case.absent:
        assert not (folder / path).exists(), f"{path} should not have been made"
