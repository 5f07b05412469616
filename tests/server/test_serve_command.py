"""`serve` without a running server: the optional extra, the options, the token file and
the allowed-folder rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.engine.errors import InputError
from app.server.bearer import load_or_create_token, matches
from app.server.config import build_config, is_loopback
from app.server.errors import ApiError
from app.server.roots import resolve_allowed

REPO = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_the_cli_never_imports_fastapi_or_uvicorn_unless_serving():
    done = run_python(
        "import sys\n"
        "from app.cli import build_parser\n"
        "build_parser().parse_args(['serve', '--port', '1'])\n"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_serve_without_the_server_extra_says_how_to_get_it():
    done = run_python(
        "import sys\n"
        "sys.modules['fastapi'] = None  # as if the extra were not installed\n"
        "from app.cli import main\n"
        "raise SystemExit(main(['serve']))"
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "lipsync-studio: error: serve needs the server extra (fastapi is missing): "
        "pip install 'lipsync-studio[server]'"
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.4", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_a_remote_host_only_with_allow_remote(tmp_path):
    with pytest.raises(InputError, match="--host 0.0.0.0: not a loopback address"):
        build_config(host="0.0.0.0", output_dir=tmp_path / "out")
    config = build_config(host="0.0.0.0", allow_remote=True, output_dir=tmp_path / "out")
    assert config.host == "0.0.0.0"
    with pytest.raises(InputError, match=r"--allow-dir .*missing: not a folder"):
        build_config(allow_dirs=[tmp_path / "missing"], output_dir=tmp_path / "out")


def test_default_roots_are_videos_music_and_the_output_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_VIDEOS_DIR", str(tmp_path / "Videos"))
    monkeypatch.setenv("XDG_MUSIC_DIR", str(tmp_path / "Music"))
    config = build_config(output_dir=tmp_path / "renders")
    assert config.allow_dirs == (tmp_path / "Videos", tmp_path / "Music", tmp_path / "renders")
    assert (tmp_path / "renders").is_dir()


def test_the_token_is_made_once_user_only_and_tightened(tmp_path):
    path = tmp_path / "server-token"
    token = load_or_create_token(path)
    assert len(token) >= 40 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_token(path) == token  # the same on the next start
    path.chmod(0o644)  # copied with loose permissions
    assert load_or_create_token(path) == token and path.stat().st_mode & 0o777 == 0o600
    assert matches(token, token) and not matches(token[:-1], token) and not matches(None, token)


def test_paths_resolve_inside_the_roots_only(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "sub" / "a.wav").write_bytes(b"x")
    (outside / "b.wav").write_bytes(b"x")
    (root / "inner-link.wav").symlink_to(root / "sub" / "a.wav")
    (root / "outer-link.wav").symlink_to(outside / "b.wav")
    (root / "outer-dir").symlink_to(outside, target_is_directory=True)
    roots = [root]
    assert resolve_allowed(str(root / "sub" / "a.wav"), roots, "audio") == root / "sub" / "a.wav"
    assert resolve_allowed(str(root / "inner-link.wav"), roots, "audio") == root / "sub" / "a.wav"
    assert resolve_allowed(str(root / "sub" / ".." / "sub" / "a.wav"), roots, "a") == (
        root / "sub" / "a.wav"
    )
    for escape in (
        root / ".." / "outside" / "b.wav",
        root / "outer-link.wav",
        root / "outer-dir" / "b.wav",
        Path("/etc/passwd"),
    ):
        with pytest.raises(ApiError) as refused:
            resolve_allowed(str(escape), roots, "audio")
        assert refused.value.status == 403 and str(escape) in refused.value.message
    with pytest.raises(ApiError) as relative:
        resolve_allowed("sub/a.wav", roots, "audio")
    assert relative.value.status == 422
    assert os.path.realpath(root) == str(root)  # (the comparisons above assume no link)
