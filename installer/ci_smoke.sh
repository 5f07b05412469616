#!/usr/bin/env bash
# CI smoke of the Linux desktop bundle (.ci/run calls it after the tests):
#   1. install the `package` extra (PyInstaller) into .venv
#   2. build the CPU bundle with the YuNet detector bundled (--with-models, from the
#      ../shared test copy imported into a throwaway model folder: no network)
#   3. unzip the zip into a temporary folder and, from there, with an empty user folder:
#      --version; models list/verify see the bundled YuNet; `demo` renders with it;
#      `demo --detector haar` renders with OpenCV's cascades; each output is checked
#      (H.264 + AAC, as long as the speech) through the bundle's own `probe`; the
#      desktop app's main window shows (offscreen), started from either executable.
# Every step runs even after a failure; the exit status is 1 if any failed.
# Needs: .venv with the project (tools/test.sh makes it), ../shared/models, Qt's X/GL libs.
set -uo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
PY=.venv/bin/python
YUNET=../shared/models/face_detection_yunet_2026may.onnx
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lipsync-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILED=()

step() {  # step NAME COMMAND...: run it, time it, remember a failure
    local name=$1 t0 rc
    shift
    echo "== $name"
    t0=$(date +%s)
    "$@"
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "-- ok: $name ($(($(date +%s) - t0)) s)"
    else
        echo "-- FAILED (exit status $rc): $name" >&2
        FAILED+=("$name")
    fi
    return $rc
}

die() { echo "ci_smoke: $*" >&2; exit 1; }

[ -x "$PY" ] || die ".venv is missing: run tools/test.sh (or tools/venv.sh) first"
[ -f "$YUNET" ] || die "$YUNET is missing: the smoke bundles it to test --with-models offline"
# Qt (offscreen) needs a few X/GL libraries that a bare Debian lacks (as tools/test.sh).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! ldconfig -p | grep -q libxkbcommon.so.0; then
    apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null \
        || (apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null)
fi

install_extra() {  # pip's build backend is chatty: show its output only when it fails
    .venv/bin/pip install --quiet --disable-pip-version-check -e ".[package]" \
        > "$WORK/pip.log" 2>&1 || { cat "$WORK/pip.log" >&2; return 1; }
}
step "install the package extra" install_extra || die "cannot install the package extra"

VERSION=$($PY -c 'import app; print(app.__version__)')
ZIP=dist/lipsync-studio-$VERSION-linux-$(uname -m | sed 's/aarch64/arm64/')-cpu.zip
rm -f "$ZIP"

build() {
    LIPSYNC_STUDIO_HOME="$WORK/build-home" .venv/bin/lipsync-studio models import "$YUNET" &&
    LIPSYNC_STUDIO_HOME="$WORK/build-home" $PY installer/build.py --flavour cpu \
        --with-models yunet_2026may
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
SAMPLES=$B/_internal/resources/samples
OUT=$WORK/out
mkdir -p "$OUT"

# The frozen app runs from a foreign folder, with an empty user folder and no venv in sight.
run() {
    (cd "$WORK" && env -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME \
        LIPSYNC_STUDIO_HOME="$WORK/run-home" PATH=/usr/bin:/bin "$@")
}
expect() {  # expect PATTERN FILE: grep, and show the file when it fails
    grep -q -- "$1" "$2" || { echo "expected '$1' in:" >&2; cat "$2" >&2; return 1; }
}

check_version() {
    run "$CLI" --version > "$OUT/version.txt" && cat "$OUT/version.txt" &&
        expect "lipsync-studio $VERSION" "$OUT/version.txt"
}
check_models() {
    run "$CLI" models list > "$OUT/models.txt" && cat "$OUT/models.txt" &&
        expect "yunet_2026may *detector *installed" "$OUT/models.txt" &&
        run "$CLI" models verify yunet_2026may
}
render_demo() {
    run "$CLI" demo -o "$OUT/demo.mp4" 2> "$OUT/demo.log"; local rc=$?
    tail -n 2 "$OUT/demo.log" | tr '\r' '\n' | tail -n 1
    [ $rc -eq 0 ] && expect "model draft, detector yunet" "$OUT/demo.log"
}
render_haar() {
    run "$CLI" render --video "$SAMPLES/presenter.mp4" --audio "$SAMPLES/speech.wav" \
        --detector haar --model draft --device cpu -o "$OUT/haar.mp4" 2> "$OUT/haar.log"
    local rc=$?
    tail -n 2 "$OUT/haar.log" | tr '\r' '\n' | tail -n 1
    [ $rc -eq 0 ] && expect "detector haar" "$OUT/haar.log"
}
# The desktop app: app.ui.main.run_gui() shows the main window and, with
# LIPSYNC_STUDIO_SMOKE_TEST=1, prints "smoke-test: main window shown: TITLE" and returns 0.
start_gui() {  # start_gui EXE
    run env QT_QPA_PLATFORM=offscreen LIPSYNC_STUDIO_SMOKE_TEST=1 \
        timeout 60 "$B/$1" > "$OUT/gui-$1.log" 2>&1; local rc=$?
    cat "$OUT/gui-$1.log"
    [ $rc -eq 0 ] && expect "smoke-test: main window shown" "$OUT/gui-$1.log"
}

step "bundle contents" $PY installer/smoke_check.py bundle "$B"
step "--version" check_version
step "models list: YuNet comes bundled" check_models
step "demo (draft model, bundled YuNet)" render_demo
step "check demo.mp4" $PY installer/smoke_check.py media "$OUT/demo.mp4" --cli "$CLI" \
    --audio "$SAMPLES/speech.wav"
step "render with OpenCV's Haar cascades" render_haar
step "check haar.mp4" $PY installer/smoke_check.py media "$OUT/haar.mp4" --cli "$CLI" \
    --audio "$SAMPLES/speech.wav"
step "desktop app starts offscreen (lipsync-studio)" start_gui lipsync-studio
step "desktop app starts offscreen (lipsync-studio-cli, no arguments)" start_gui lipsync-studio-cli

du -sh "$B" | sed 's/^/bundle folder: /'
[ -f "$ZIP" ] && du -sh "$ZIP" | sed 's/^/zip: /'
echo "ci_smoke: $(($(date +%s) - T0)) s"
if [ ${#FAILED[@]} -gt 0 ]; then
    printf 'ci_smoke: FAILED: %s\n' "${FAILED[@]}" >&2
    exit 1
fi
echo "ci_smoke: all passed"
