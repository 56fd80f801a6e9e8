"""The MoveNet single-pose adapter: one uint8 picture in, 17 [y, x, score] rows out.

Input shape and dtype are read from the model, so Lightning (192 px) and Thunder (256 px),
int8 or float16, all run. Keypoints come back normalised to the model input.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.errors import ModelError
from station.hw.runtime import make_interpreter
from station.types import KEYPOINT_COUNT, Keypoints


class MoveNet:
    """A loaded MoveNet single-pose model."""

    def __init__(self, interpreter: Any, runtime: str, path: Path) -> None:
        self.runtime = runtime
        self.path = path
        self._interpreter = interpreter
        (inp,) = interpreter.get_input_details()
        outs = interpreter.get_output_details()
        shape = tuple(int(n) for n in inp["shape"])
        if len(shape) != 4 or shape[0] != 1 or shape[3] != 3 or len(outs) != 1:
            raise ModelError(f"{path} is not a MoveNet single-pose model (input shape {list(shape)}): use one from models/manifest.toml")
        out_shape = tuple(int(n) for n in outs[0]["shape"])
        if out_shape[-2:] != (KEYPOINT_COUNT, 3):
            raise ModelError(f"{path} is not a MoveNet single-pose model (output shape {list(out_shape)}): use one from models/manifest.toml")
        self.input_height_px, self.input_width_px = shape[1], shape[2]
        self.input_dtype = np.dtype(inp["dtype"])
        self._input_index = int(inp["index"])
        self._output_index = int(outs[0]["index"])
        scale, zero_point = inp.get("quantization", (0.0, 0))
        self._quant = (float(scale), int(zero_point)) if scale else None
        self.last_inference_ms = 0.0

    def _to_input(self, image: npt.NDArray[np.uint8]) -> np.ndarray:
        """Raw 0-255 RGB in the model's dtype (MoveNet normalises inside the graph)."""
        if self.input_dtype == np.uint8:
            return image[None]
        if self._quant is not None:  # an int8-input variant: quantise with the input's parameters
            scale, zero_point = self._quant
            info = np.iinfo(self.input_dtype)
            q = np.round(image.astype(np.float32) / scale) + zero_point
            return np.clip(q, info.min, info.max).astype(self.input_dtype)[None]
        return image.astype(self.input_dtype)[None]

    def infer(self, image: npt.NDArray[np.uint8]) -> Keypoints:
        """Keypoints (17, 3) normalised to the input picture, which must be the model's input size."""
        if image.shape != (self.input_height_px, self.input_width_px, 3):
            raise ValueError(f"input picture is {image.shape}, model wants {(self.input_height_px, self.input_width_px, 3)}")
        start = time.perf_counter()
        self._interpreter.set_tensor(self._input_index, self._to_input(image))
        self._interpreter.invoke()
        out = self._interpreter.get_tensor(self._output_index)
        self.last_inference_ms = (time.perf_counter() - start) * 1e3
        return np.array(out.reshape(KEYPOINT_COUNT, 3), dtype=np.float32)


def load_movenet(path: Path, threads: int, runtime: str = "auto", reference_kernels: bool = False) -> MoveNet:
    """Build the interpreter for a (verified) model file."""
    interpreter, used = make_interpreter(str(path), threads, runtime, reference_kernels)
    return MoveNet(interpreter, used, path)
