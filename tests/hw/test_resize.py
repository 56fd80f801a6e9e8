"""Numpy crop-and-resize: sampling, black padding, and the exact inverse mapping."""

from __future__ import annotations

import numpy as np
import pytest

from station.hw.crop import CropRegion, full_region
from station.hw.resize import crop_and_resize


def test_full_frame_of_model_size_is_identity() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (192, 192, 3), dtype=np.uint8)
    out = crop_and_resize(image, full_region(192, 192), 192, 192)
    np.testing.assert_array_equal(out, image)


def test_landscape_frame_is_letterboxed_with_black_bands() -> None:
    image = np.full((360, 640, 3), 200, dtype=np.uint8)
    out = crop_and_resize(image, full_region(360, 640), 192, 192)
    band = (192 - 192 * 360 // 640) // 2  # 42 rows of padding above and below
    assert np.all(out[: band - 1] == 0) and np.all(out[-(band - 1) :] == 0)
    assert np.all(out[band + 1 : 192 - band - 1] == 200)


def test_region_entirely_outside_the_frame_is_black() -> None:
    image = np.full((100, 100, 3), 255, dtype=np.uint8)
    out = crop_and_resize(image, CropRegion(1.5, 1.5, 2.5, 2.5), 32, 32)
    assert out.shape == (32, 32, 3) and not out.any()


@pytest.mark.parametrize("frame_hw", [(360, 640), (640, 360), (480, 480), (1080, 1920)])
@pytest.mark.parametrize("region_kind", ["full", "crop"])
def test_a_bright_spot_maps_back_to_where_it_was(frame_hw: tuple[int, int], region_kind: str) -> None:
    height_px, width_px = frame_hw
    spot_y, spot_x = int(height_px * 0.63), int(width_px * 0.41)
    image = np.zeros((height_px, width_px, 3), dtype=np.uint8)
    half_px = max(height_px, width_px) // 192 + 2  # wider than one sample step: never missed
    image[spot_y - half_px : spot_y + half_px + 1, spot_x - half_px : spot_x + half_px + 1] = (255, 128, 0)
    if region_kind == "full":
        region = full_region(height_px, width_px)
    else:
        side_px = 0.5 * min(height_px, width_px)
        region = CropRegion(
            (spot_y - side_px * 0.3) / height_px, (spot_x - side_px * 0.7) / width_px,
            (spot_y + side_px * 0.7) / height_px, (spot_x + side_px * 0.3) / width_px,
        )  # fmt: skip
    out = crop_and_resize(image, region, 192, 192)
    ys, xs = np.nonzero(out[..., 0])
    assert np.all(out[ys, xs] == (255, 128, 0))  # channels stay in RGB order
    model_kp = np.zeros((17, 3), dtype=np.float32)
    model_kp[0] = ((ys.mean() + 0.5) / 192, (xs.mean() + 0.5) / 192, 1.0)
    frame_kp = region.to_frame(model_kp)
    step_px = region.height * height_px / 192
    assert abs(frame_kp[0, 0] * height_px - (spot_y + 0.5)) <= step_px
    assert abs(frame_kp[0, 1] * width_px - (spot_x + 0.5)) <= step_px
