#!/usr/bin/env bash
# CI smoke of the Linux desktop bundle (.ci/run calls it after the tests):
#   1. install the `package` extra (PyInstaller) into .venv
#   2. build the CPU bundle (YuNet comes in as package data: app/resources/models/)
#   3. unzip the zip into a temporary folder and, from there, with an empty user folder:
#      --version (both executables); models list/verify see the shipped YuNet; `demo`
#      renders with it;
#      `demo --detector haar` renders with OpenCV's cascades; each output is checked
#      (H.264 + AAC, as long as the speech) through the bundle's own `probe`; the
#      desktop app's main window shows (offscreen), started from either executable.
# Every step runs even after a failure; the exit status is 1 if any failed.
# Needs: .venv with the project (tools/test.sh makes it), Qt's X/GL libraries.
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
PY=.venv/bin/python
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lipsync-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=()

. installer/smoke_lib.sh

[ -x "$PY" ] || die ".venv is missing: run tools/test.sh (or tools/venv.sh) first"
. tools/system_packages.sh  # Qt's X/GL libraries, as tools/test.sh

install_extra() {  # pip's build backend is chatty: show its output only when it fails
    .venv/bin/pip install --quiet --disable-pip-version-check -e ".[package]" \
        > "$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; return 1; }
}
step "install the package extra" install_extra || die "cannot install the package extra"

VERSION=$($PY -c 'import app; print(app.__version__)')
ZIP=dist/lipsync-studio-$VERSION-linux-$(uname -m | sed 's/aarch64/arm64/')-cpu.zip
rm -f "$ZIP"

build() {  # an empty model folder: nothing but the package data can end up in the bundle
    LIPSYNC_STUDIO_HOME="$WORK/build-home" $PY installer/build.py --flavour cpu
}
step "build the bundle (installer/build.py)" build
if [ -f "$ZIP" ]; then
    step "unzip $ZIP" $PY installer/smoke_check.py unzip "$ZIP" "$WORK/x"
    B=$WORK/x/lipsync-studio
else
    # No zip: build.py found the bundle incomplete (it said why above) and failed. Check
    # the folder it left anyway, so this log shows everything else that works or not.
    echo "ci_smoke: $ZIP was not written; checking dist/lipsync-studio instead" >&2
    FAILED+=("zip written")
    B=$PWD/dist/lipsync-studio
fi
[ -x "$B/lipsync-studio-cli" ] || die "no bundle at $B (failed: ${FAILED[*]})"
CLI=$B/lipsync-studio-cli
SAMPLES=$B/_internal/app/resources/samples
OUT=$WORK/out
mkdir -p "$OUT"

step "bundle contents" $PY installer/smoke_check.py bundle "$B"
step "--version" check_version
step "models list: YuNet ships with the app" check_models
step "demo (draft model, shipped YuNet)" render_demo
step "check demo.mp4" $PY installer/smoke_check.py media "$OUT/demo.mp4" --cli "$CLI" \
    --audio "$SAMPLES/speech.wav"
step "render with OpenCV's Haar cascades" render_haar
step "check haar.mp4" $PY installer/smoke_check.py media "$OUT/haar.mp4" --cli "$CLI" \
    --audio "$SAMPLES/speech.wav"
step "desktop app starts offscreen (lipsync-studio)" start_gui "$B/lipsync-studio"
step "desktop app starts offscreen (lipsync-studio-cli, no arguments)" start_gui "$CLI"

du -sh "$B" | sed 's/^/bundle folder: /'
[ -f "$ZIP" ] && du -sh "$ZIP" | sed 's/^/zip: /'
finish
