#!/usr/bin/env bash
# The pose tests again under tflite-runtime 2.14, the runtime older Pi images use. It needs
# numpy<2 and Python <= 3.11, so it gets its own venv (.venv-tflite) beside the numpy-2 .venv:
# the project without the litert extra, then the pose tests with the runtime forced to tflite_runtime.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-tflite
python=""
for candidate in python3.11 python3.10 python3.9 python3; do
    if command -v "$candidate" >/dev/null &&
        "$candidate" -c 'import sys; sys.exit(not ((3, 9) <= sys.version_info[:2] <= (3, 11)))'; then
        python=$candidate
        break
    fi
done
if [ -z "$python" ]; then
    echo "tflite-env: tflite-runtime 2.14 needs Python 3.9-3.11 and none is installed" >&2
    exit 1
fi

run() { echo "+ $*"; "$@"; }
[ -x "$venv/bin/python" ] || run "$python" -m venv "$venv"
run "$venv/bin/pip" install -q --upgrade pip
# numpy<2 pinned in the same call, so no later step can pull numpy 2 in under tflite-runtime.
run "$venv/bin/pip" install -q "numpy<2" "tflite-runtime==2.14.*" -e ".[video]" "pytest>=8"
run "$venv/bin/python" -c 'import numpy, tflite_runtime; print("tflite-env: numpy", numpy.__version__, "tflite-runtime", tflite_runtime.__version__)'
if "$venv/bin/python" -c 'import ai_edge_litert' 2>/dev/null; then
    echo "tflite-env: ai_edge_litert must not be installed here" >&2
    exit 1
fi

STATION_POSE__RUNTIME=tflite_runtime run "$venv/bin/python" -m pytest -q \
    tests/hw/test_pose_real_pixels.py tests/hw/test_model_manifest.py tests/hw/test_resize.py \
    tests/hw/test_crop_tracking.py tests/hw/test_frame_sources.py tests/hw/test_camera.py \
    tests/hw/test_latest_frame.py tests/hw/test_runtime_choice.py tests/hw/test_bench_pipeline.py \
    tests/test_replay.py
