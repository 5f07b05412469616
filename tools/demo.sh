#!/usr/bin/env bash
# Set up (first run only) and render the bundled sample on the offline draft model.
# Usage: bash tools/demo.sh [OUT.mp4]   (OUT relative to the folder you run it from)
out=${1:-lipsync-demo.mp4}
[[ $out = /* ]] || out="$PWD/$out"  # venv.sh moves to the repository root
. "$(dirname "$0")/venv.sh" ""  # an explicit argument: a sourced script sees ours otherwise
.venv/bin/lipsync-studio demo -o "$out"
