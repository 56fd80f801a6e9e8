"""A minimal PNG encoder (zlib from the standard library) for the optional camera picture."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

MAX_WIDTH_PX = 480  # enough to judge camera placement; keeps a Pi's encode time small


def encode_png(image_rgb: npt.NDArray[np.uint8]) -> bytes:
    """RGB pixels (height, width, 3) as PNG bytes, downsampled by striding to <= MAX_WIDTH_PX."""
    step = max(1, -(-image_rgb.shape[1] // MAX_WIDTH_PX))
    rgb = np.ascontiguousarray(image_rgb[::step, ::step, :3], dtype=np.uint8)
    height, width = rgb.shape[:2]
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + _chunk(b"IEND", b"")


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
