#!/usr/bin/env bash
# Set up (first run only) and run the whole test suite. CI runs exactly this (.ci/run).
. "$(dirname "$0")/venv.sh" dev
# Qt (offscreen) needs a few X/GL libraries that a bare Debian lacks.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! ldconfig -p | grep -q libxkbcommon.so.0; then
    apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null \
        || (apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 >/dev/null)
fi
.venv/bin/python -m pytest -q "$@"
