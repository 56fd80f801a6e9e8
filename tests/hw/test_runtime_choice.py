"""Choosing the TFLite runtime, and reading the input shape and dtype from whichever model is given."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import numpy as np
import pytest

from paths import MODEL_PATH
from posehelpers import needs_model, pose_model
from station.errors import ModelError
from station.hw.movenet import MoveNet
from station.hw.pose import PoseModel
from station.hw.runtime import RUNTIME_ORDER, make_interpreter


def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@pytest.mark.parametrize("runtime", RUNTIME_ORDER)
def test_asking_for_an_absent_runtime_says_how_to_install_one(runtime: str) -> None:
    if _importable(runtime):
        pytest.skip(f"{runtime} is installed in this environment")
    with pytest.raises(ModelError, match=rf"{runtime} is not installed.*pip install"):
        make_interpreter(str(MODEL_PATH), 1, runtime)


def test_no_runtime_at_all_is_a_model_error_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in RUNTIME_ORDER:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name...` fail like a missing package
        monkeypatch.setitem(sys.modules, f"{name}.interpreter", None)
    with pytest.raises(ModelError) as err:
        make_interpreter(str(MODEL_PATH), 1, "auto")
    message = str(err.value)
    assert "ai_edge_litert is not installed" in message and "tflite_runtime is not installed" in message
    assert "ai-edge-litert" in message and "tflite-runtime==2.14" in message


@needs_model
def test_auto_picks_a_working_runtime_and_reads_the_signature() -> None:
    model = pose_model(runtime="auto", threads=1)
    assert model.runtime in RUNTIME_ORDER and _importable(model.runtime)
    assert (model.net.input_height_px, model.net.input_width_px, model.net.input_dtype) == (192, 192, np.uint8)


class ThunderFloatInterpreter:
    """Stands in for a 256x256 float-input MoveNet (that file is not at hand): records what it is fed."""

    def __init__(self) -> None:
        self.fed: np.ndarray | None = None

    def get_input_details(self) -> list[dict[str, Any]]:
        return [{"index": 0, "shape": np.array([1, 256, 256, 3]), "dtype": np.float32, "quantization": (0.0, 0)}]

    def get_output_details(self) -> list[dict[str, Any]]:
        return [{"index": 7, "shape": np.array([1, 1, 17, 3])}]

    def set_tensor(self, index: int, value: np.ndarray) -> None:
        self.fed = value

    def invoke(self) -> None:
        pass

    def get_tensor(self, index: int) -> np.ndarray:
        out = np.zeros((1, 1, 17, 3), dtype=np.float32)
        out[..., 0], out[..., 1], out[..., 2] = 0.25, 0.75, 0.9
        return out


def test_input_size_and_dtype_come_from_the_model() -> None:
    interpreter = ThunderFloatInterpreter()
    model = PoseModel(MoveNet(interpreter, "test", MODEL_PATH), crop_tracking=False)
    frame = np.full((480, 640, 3), 200, dtype=np.uint8)
    keypoints = model.detect(frame)
    assert interpreter.fed is not None
    assert interpreter.fed.shape == (1, 256, 256, 3) and interpreter.fed.dtype == np.float32
    assert interpreter.fed.max() == 200.0  # raw 0-255 pixel values: MoveNet normalises in its graph
    # 0.25 of a 640 px square centred on a 480 px high frame: y = (-80 + 160) / 480; x = 0.75.
    np.testing.assert_allclose(keypoints[0], [80 / 480, 0.75, 0.9], atol=1e-6)


def test_a_model_that_is_not_single_pose_movenet_is_refused() -> None:
    class MultiPose(ThunderFloatInterpreter):
        def get_output_details(self) -> list[dict[str, Any]]:
            return [{"index": 7, "shape": np.array([1, 6, 56])}]

    with pytest.raises(ModelError, match=r"not a MoveNet single-pose model \(output shape \[1, 6, 56\]\)"):
        MoveNet(MultiPose(), "test", MODEL_PATH)
