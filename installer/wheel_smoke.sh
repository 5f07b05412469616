#!/usr/bin/env bash
# CI smoke of a regular install (.ci/run calls it): what `pip install lipsync-studio` or
# `pipx install` users get, not the editable install of tools/venv.sh.
#   1. build the wheel from this checkout (pip wheel: the same build backend as PyPI's)
#   2. install it into a fresh virtual environment (dependencies from pip's index/cache)
#   3. from a foreign folder, with an empty user folder and nothing downloaded: --version;
#      `models list` shows the shipped YuNet installed and verified; `demo` renders the
#      bundled sample with it (checked: H.264 + AAC, as long as the speech); the desktop
#      app's main window shows (offscreen) and reports the YuNet detector
# Every step runs even after a failure; the exit status is 1 if any failed.
# Needs: .venv (tools/test.sh makes it; its Python builds the wheel).
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
PY=.venv/bin/python
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lipsync-wheel.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=()
. installer/smoke_lib.sh

[ -x "$PY" ] || die ".venv is missing: run tools/test.sh (or tools/venv.sh) first"
. tools/system_packages.sh  # Qt's X/GL libraries, as tools/test.sh
VERSION=$($PY -c 'import app; print(app.__version__)')
VENV=$WORK/venv
CLI=$VENV/bin/lipsync-studio
OUT=$WORK/out
mkdir -p "$OUT"

quietly() {  # quietly LOG COMMAND...: pip is chatty; show its output only when it fails
    local log=$1
    shift
    "$@" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
}
build_wheel() {
    quietly "$WORK/wheel.log" $PY -m pip wheel --no-deps --disable-pip-version-check \
        -w "$WORK/dist" . && ls "$WORK"/dist/lipsync_studio-"$VERSION"-*.whl
}
install_wheel() {
    local python
    python=$($PY -c 'import sys; print(sys._base_executable)')
    quietly "$WORK/venv.log" "$python" -m venv "$VENV" &&
        quietly "$WORK/install.log" "$VENV/bin/python" -m pip install \
            --disable-pip-version-check "$WORK"/dist/lipsync_studio-*.whl
}
# The installed package, not this checkout, must be the one that runs.
check_installed() {
    local where
    where=$(run "$VENV/bin/python" -c 'import app; print(app.__file__)') && echo "app: $where" &&
        case $where in "$VENV"/lib/*/site-packages/app/__init__.py) ;; *) false ;; esac
}

step "build the wheel" build_wheel || die "no wheel (failed: ${FAILED[*]})"
step "install it into a fresh virtual environment" install_wheel || die "cannot install the wheel"
SAMPLES=$(run "$VENV/bin/python" -c 'from app.engine.paths import resources_dir; print(resources_dir() / "samples")')
step "the installed package runs (not the checkout)" check_installed
step "--version" check_version
step "models list: YuNet ships with the app" check_models
step "demo (draft model, shipped YuNet, no download)" render_demo
step "check demo.mp4" $PY installer/smoke_check.py media "$OUT/demo.mp4" --cli "$CLI" \
    --audio "$SAMPLES/speech.wav"
step "desktop app starts offscreen (lipsync-studio, no arguments)" start_gui "$CLI"
finish
