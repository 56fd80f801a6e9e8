"""Regenerate tests/hw/data/squat_reference_kernels.json (run by hand, never by the tests).

The raw MoveNet Lightning int8 output on squat.bmp, letterboxed by our own crop_and_resize, with
the TFLite reference kernels: both runtimes must reproduce it exactly (PROVENANCE.md).
Usage: .venv/bin/python tests/hw/make_golden.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from posehelpers import golden_input, pose_model  # noqa: E402

if __name__ == "__main__":
    model = pose_model(reference_kernels=True, crop_tracking=False)
    raw = model.net.infer(golden_input(model))
    out = {"runtime": model.runtime, "model": "movenet_singlepose_lightning_int8", "keypoints": raw.tolist()}
    (HERE / "data" / "squat_reference_kernels.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"written with {model.runtime}")
