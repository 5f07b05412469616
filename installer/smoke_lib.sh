# Shared by installer/ci_smoke.sh (the frozen bundle) and installer/wheel_smoke.sh (a pip
# install from the wheel): run steps, remember failures, run the app as a stranger would.
# The sourcing script sets WORK (a scratch folder), T0 (date +%s) and FAILED=() first.

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

die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# The app runs from a foreign folder, with an empty user folder (LIPSYNC_STUDIO_HOME) and no
# virtual environment, PYTHONPATH or source checkout in sight.
run() {
    (cd "$WORK" && env -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME \
        LIPSYNC_STUDIO_HOME="$WORK/run-home" PATH=/usr/bin:/bin "$@")
}

expect() {  # expect PATTERN FILE: grep, and show the file when it fails
    grep -q -- "$1" "$2" || { echo "expected '$1' in:" >&2; cat "$2" >&2; return 1; }
}

# The checks both smokes make. They need CLI (the command-line executable), OUT (a folder
# for outputs and logs), VERSION and SAMPLES (the installed app's sample folder).
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
# LIPSYNC_STUDIO_SMOKE_TEST=1, prints "smoke-test: main window shown: TITLE" and the face
# detector its renders would use ("smoke-test: face detector: yunet"), and returns 0.
start_gui() {  # start_gui EXE: no arguments, as a desktop launcher starts it
    local log=$OUT/gui-$(basename "$1").log
    run env QT_QPA_PLATFORM=offscreen LIPSYNC_STUDIO_SMOKE_TEST=1 \
        timeout 60 "$1" > "$log" 2>&1; local rc=$?
    cat "$log"
    [ $rc -eq 0 ] && expect "smoke-test: main window shown" "$log" &&
        expect "smoke-test: face detector: yunet" "$log"
}

finish() {  # the summary line and the exit status: 1 if any step failed
    echo "$(basename "$0"): $(($(date +%s) - T0)) s"
    if [ ${#FAILED[@]} -gt 0 ]; then
        printf '%s: FAILED: %s\n' "$(basename "$0")" "${FAILED[@]}" >&2
        exit 1
    fi
    echo "$(basename "$0"): all passed"
}
