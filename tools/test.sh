#!/usr/bin/env bash
# Set up (first run only), check the rules a machine can check, then run the whole test
# suite. CI runs exactly this (.ci/run).
. "$(dirname "$0")/venv.sh" dev
# System packages the app and its tests need that a bare Debian lacks: X/GL libraries for Qt
# (offscreen too) and libpulse0 for QtMultimedia (the preview player).
. tools/system_packages.sh
# The rules (docs/architecture.md, "Rules a machine checks"); each names what it broke.
.venv/bin/ruff check app tests bench tools installer
.venv/bin/ruff format --check app tests bench tools installer
.venv/bin/lint-imports --no-cache
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
