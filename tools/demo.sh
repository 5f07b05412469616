#!/usr/bin/env bash
# Set up (first run only) and render the bundled sample on the offline draft model.
. "$(dirname "$0")/venv.sh"
.venv/bin/lipsync-studio demo -o "${1:-lipsync-demo.mp4}"
