"""Type stub of the C kernel (station/hinge/_speedups.c), the port of `_reference.Core`."""

from collections.abc import Sequence
from typing import Any, SupportsFloat

KERNEL_PARAMS: tuple[str, ...]  # the settings the kernel reads, looked up by name in _layout.PARAM_NAMES
N_TRACE: int  # len(TRACE_COLUMNS)
N_EVENT: int  # len(EVENT_COLUMNS)
ARRAY_HEAD: int  # 1: frames are read from numpy's array head (its layout checked at import), 0: through the buffer protocol

class Core:
    """Streaming phase detector state over plain numbers (mirrors `_reference.Core`)."""

    def __init__(
        self, params: Sequence[SupportsFloat], width_px: SupportsFloat, height_px: SupportsFloat, trace_rows: int = 4096
    ) -> None: ...
    def update(self, keypoints: Any, t_s: float, /) -> int:
        """A live frame: skipped (0) unless time moves forward; stepped, its trace row kept, counted; event bits."""
    def trace_rows(self) -> bytearray:
        """The trace rows kept by update, oldest first, float64 bytes (N_TRACE per row)."""
    def step(self, keypoints: Any, t: float, /) -> int:
        """One frame ((17, 3) [y, x, score] normalised; NaN = missing); returns event bits."""
    def finish(self, t: float, /) -> int:
        """End of input: a pending rep counts (unless it awaits the bar's lowering), an open set closes; returns event bits."""
    def run(self, keypoints: Any, t: Any, trace: Any, /) -> bytearray:
        """Batch: (N, 17, 3) float32/float64 keypoints, (N,) float64 t, writable (N, 6) float64 trace;
        steps every frame then finishes; returns the event records as float64 bytes (15 per row)."""
    @property
    def tracks(self) -> dict[str, Any]: ...
    @property
    def near_left(self) -> bool: ...
    width_px: float
    height_px: float
    t_prev: float
    side_l: float
    side_r: float
    facing_acc: float
    facing: int
    leg_px: float
    torso_px: float
    view_ratio: float
    t_front: float
    front_prev: int
    t_turned: float
    trunk_deg: float
    knee_deg: float
    travel_L: float
    shoulder_height_L: float
    ok: int
    held: int
    hip_x: float
    ankle_x: float
    feet_x: float
    pelvis_x: float
    feet_seen: int
    rest_x: float
    rest_y: float
    rest_n: int
    rest_feet_x: float
    phase: int
    t_present: float
    t_upright: float
    top_base_deg: float
    t_onset: float
    knee_onset_deg: float
    ankle_x_onset: float
    onset_shoulder_L: float
    max_trunk_deg: float
    t_max_trunk: float
    ref_trunk_deg: float
    ref_knee_deg: float
    t_progress: float
    t_bottom: float
    deep_trunk_deg: float
    deep_knee_deg: float
    t_deep: float
    low_shoulder_L: float
    pend: int
    pend_t_start: float
    pend_t_bottom: float
    pend_t_lockout: float
    pend_hip_x: float
    pend_ankle_x: float
    pend_side_on: int
    pend_floor: int
    rep_n: int
    rep_set_n: int
    rep_t_start: float
    rep_t_bottom: float
    rep_t_lockout: float
    set_active: int
    set_n: int
    reps_in_set: int
    set_t_start: float
    set_t_end: float
    ended_set_n: int
    ended_reps: int
    ended_t_start: float
    ended_t_end: float
    frames: int  # frames taken by update

def hypot(x: float, y: float, /) -> float:
    """The kernel's hypot: math.hypot(x, y) to the last bit."""
