#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite. CI runs exactly this (.ci/run).
. "$(dirname "$0")/venv.sh" dev
# System packages the app and its tests need that a bare Debian lacks: X/GL libraries for Qt
# (offscreen too) and libpulse0 for QtMultimedia (the preview player).
. tools/system_packages.sh
.venv/bin/python -m pytest -q "$@"
