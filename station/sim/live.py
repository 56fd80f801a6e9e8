"""An endless simulated lifter for `station demo`: sets, rests, walk-offs and now and then a distractor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from station.sim.core import simulate
from station.sim.scenario import random_scenario
from station.types import KeypointFrame


def live_lifter(
    seed: int, fps: float = 15.0, width_px: int = 1280, height_px: int = 720, bar_lowered: bool = True
) -> Iterator[KeypointFrame]:
    """Frames from t = 0 at the nominal fps, forever; each episode is a fresh random scenario whose
    lifter sets the last rep's bar down (or, with bar_lowered False, drops it from lockout)."""
    rng = np.random.default_rng(seed)
    offset_s, index = 0.0, 0
    while True:
        scenario = replace(
            random_scenario(rng),
            name="live",
            width_px=width_px,
            height_px=height_px,
            fps=fps,
            fps_jitter=0.0,
            walk_in=True,
            walk_out=True,
            cuts=False,
            bar_lowered=bar_lowered,
        )
        if abs(scenario.yaw_deg) > 45.0:  # the demo shows what the station grades: keep it side-on
            scenario = replace(scenario, yaw_deg=0.0)
        recording, _ = simulate(scenario, int(rng.integers(1 << 31)))
        for keypoints, t_s in zip(recording.keypoints, recording.t, strict=True):
            yield KeypointFrame(keypoints, offset_s + float(t_s), width_px, height_px, index)
            index += 1
        offset_s += float(recording.t[-1]) + 1.0 / fps
