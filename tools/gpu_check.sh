#!/usr/bin/env bash
# The one command to run on an NVIDIA machine: an environment with onnxruntime-gpu
# (.venv-gpu, made once), the tests marked `gpu`, then the GPU benchmark; prints one table.
#
#   bash tools/gpu_check.sh [--quick]        results in bench/gpu/ (RESULTS.md, results.json)
#
# Offline machines: put the wheels in a folder and set PIP_FIND_LINKS=DIR PIP_NO_INDEX=1
# (onnxruntime-gpu[cuda,cudnn] brings the CUDA 12 and cuDNN 9 runtimes as wheels), or
# point VENV at an environment that already has onnxruntime-gpu and this project.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=${VENV:-.venv-gpu}
PY=${PYTHON:-python3}
quick=()
[ "${1:-}" = "--quick" ] && quick=(--quick)

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
if ! "$VENV/bin/python" -c "import app, pytest" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet -e ".[dev]"
fi
# Exactly one onnxruntime flavour per environment (they share a folder): swap in the GPU one.
if ! "$VENV/bin/python" -c "import onnxruntime as o, sys; \
sys.exit('CUDAExecutionProvider' not in o.get_available_providers())" 2>/dev/null; then
    "$VENV/bin/python" -m pip uninstall --quiet -y onnxruntime onnxruntime-gpu || true
    "$VENV/bin/python" -m pip install --quiet "onnxruntime-gpu[cuda,cudnn]"
fi

echo "== nvidia-smi"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "== tests marked gpu"
tests=0
"$VENV/bin/python" -m pytest -q -m gpu -rs tests/gpu || tests=$?
echo "== GPU benchmark"
bench=0
"$VENV/bin/python" -m bench --device cuda "${quick[@]}" --out bench/gpu || bench=$?
echo "== summary: tests exit $tests, bench exit $bench (tables above; bench/gpu/RESULTS.md)"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
