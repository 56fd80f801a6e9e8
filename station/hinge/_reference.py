"""The reference per-frame core: one frame of keypoints in, event bits out; state = plain numbers.

This file is the specification the C kernel ports line by line. `Core.step` runs, in order:
near side and facing votes, joint tracking (`_filter`), the quantities (trunk inclination,
knee flexion, hip travel, view), then the phase machine, rep confirmation and set
segmentation. `Core.update` is a live frame (what `PhaseDetector.update` calls): a step that
skips stale timestamps and keeps the frame's trace row for grading. Results are read from
attributes; grading (once per rep) is in `grading.py`. How input is checked and read
(`frame_values`, `batch_arrays`) is part of the specification too: the C kernel raises the
same exceptions with the same messages.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from station.hinge._filter import ANKLE, HIP, KNEE, SHOULDER, JointTracks, fuse_and_filter
from station.hinge._layout import (
    EV_PHASE, EV_REP, EV_SET_ENDED, EV_SET_STARTED, N_PARAMS, OK_KNEE, OK_SIDE, OK_TRAVEL, OK_TRUNK,
    EVENT_COLUMNS, PARAM_NAMES, PH_ABSENT, PH_ASCENT, PH_BOTTOM, PH_HINGE, PH_KNEE_BEND, PH_TOP, TRACE_COLUMNS,
    TRACE_ROWS,
)  # fmt: skip
from station.settings.hinge import HingeSettings

DEG = 180.0 / math.pi
LEFT_SCORES = (5 * 3 + 2, 11 * 3 + 2, 13 * 3 + 2, 15 * 3 + 2)
RIGHT_SCORES = (6 * 3 + 2, 12 * 3 + 2, 14 * 3 + 2, 16 * 3 + 2)
NOSE, L_EAR, R_EAR = 0, 3, 4
DEPTH_STEP_DEG = 1.0  # a descent "makes progress" when the trunk deepens by more than this ...
KNEE_STEP_DEG = 4.0  # ... or the knees by more than this (they jitter more, the plates hiding the shins)
BOTTOM_STEP = 5.0  # the bottom is dated at the last deepening by 5x these steps: sway and creep during a pause are not descent
REAL_KINDS = "fiub"  # numpy dtype kinds read as numbers: float, int, unsigned, bool
F64 = npt.NDArray[np.float64]


def frame_values(keypoints: Any) -> list[float]:
    """The 51 values of one frame in C order, as floats; TypeError or ValueError, saying what is
    expected, for anything but a real numpy array of shape (17, 3) (NaN or low score = missing)."""
    if not isinstance(keypoints, np.ndarray):
        raise TypeError(f"keypoints must be a numpy array of shape (17, 3), got {type(keypoints).__name__}")
    if keypoints.shape != (17, 3):
        raise ValueError(f"keypoints must have shape (17, 3) ([y, x, score] of 17 keypoints), got {keypoints.shape}")
    if keypoints.dtype.kind not in REAL_KINDS:
        raise TypeError(f"keypoints must hold real numbers (float32), got dtype {keypoints.dtype}")
    if keypoints.dtype != np.float32 and keypoints.dtype != np.float64:
        keypoints = keypoints.astype(np.float64)  # exact for every real dtype
    values: list[float] = keypoints.ravel().tolist()
    return values


def batch_arrays(keypoints: Any, t: Any) -> tuple[npt.NDArray[Any], F64]:
    """A recording checked like `frame_values`: (N, 17, 3) keypoints as C-ordered float32 or
    float64 and (N,) times as C-ordered float64 (the values `float(x)` reads)."""
    for name, value in (("keypoints", keypoints), ("t", t)):
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{name} must be a numpy array, got {type(value).__name__}")
    if keypoints.ndim != 3 or keypoints.shape[1:] != (17, 3):
        raise ValueError(f"keypoints must have shape (N, 17, 3), got {keypoints.shape}")
    if t.shape != keypoints.shape[:1]:
        raise ValueError(f"t must have shape ({keypoints.shape[0]},) to match keypoints, got {t.shape}")
    for name, value in (("keypoints", keypoints), ("t", t)):
        if value.dtype.kind not in REAL_KINDS:
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    kp_dtype = keypoints.dtype if keypoints.dtype in (np.float32, np.float64) else np.float64
    return np.ascontiguousarray(keypoints, dtype=kp_dtype), np.ascontiguousarray(t, dtype=np.float64)


class TraceRing:
    """The last `capacity` trace rows (TRACE_COLUMNS) of a live core, for grading."""

    __slots__ = ("_buf", "_next", "_full")

    def __init__(self, capacity: int = TRACE_ROWS) -> None:
        capacity = operator.index(capacity)
        if capacity < 1:
            raise ValueError(f"trace_rows must be a positive number of rows, got {capacity}")
        self._buf = np.zeros((capacity, len(TRACE_COLUMNS)), dtype=np.float64)
        self._next = 0
        self._full = False

    def append(self, t_s: float, core: Core) -> None:
        self._buf[self._next] = (t_s, core.phase, core.trunk_deg, core.knee_deg, core.travel_L, core.ok)
        self._next += 1
        if self._next == len(self._buf):
            self._next = 0
            self._full = True

    def ordered(self) -> F64:
        """The rows oldest first."""
        if not self._full:
            return self._buf[: self._next]
        return np.concatenate((self._buf[self._next :], self._buf[: self._next]))


class Core:
    """Streaming phase detector over plain floats (the C type `_speedups.Core` mirrors it)."""

    __slots__ = (
        "s", "tracks", "width_px", "height_px", "t_prev",
        "side_l", "side_r", "near_left", "facing_acc", "facing",
        "leg_px", "torso_px", "view_ratio", "t_front", "front_prev", "t_turned",
        "trunk_deg", "knee_deg", "travel_L", "shoulder_height_L", "ok", "held", "hip_x", "ankle_x", "feet_x", "pelvis_x", "feet_seen",
        "rest_x", "rest_y", "rest_n", "rest_feet_x",
        "phase", "t_present", "t_upright",
        "top_base_deg", "t_onset", "knee_onset_deg", "ankle_x_onset", "onset_shoulder_L",
        "max_trunk_deg", "t_max_trunk", "ref_trunk_deg", "ref_knee_deg", "t_progress", "t_bottom",
        "deep_trunk_deg", "deep_knee_deg", "t_deep", "low_shoulder_L",
        "pend", "pend_t_start", "pend_t_bottom", "pend_t_lockout", "pend_hip_x", "pend_ankle_x", "pend_side_on", "pend_floor",
        "rep_n", "rep_set_n", "rep_t_start", "rep_t_bottom", "rep_t_lockout",
        "set_active", "set_n", "reps_in_set", "set_t_start", "set_t_end",
        "ended_set_n", "ended_reps", "ended_t_start", "ended_t_end", "frames", "ring",
    )  # fmt: skip

    def __init__(self, params: Sequence[float], width_px: int, height_px: int, trace_rows: int = TRACE_ROWS) -> None:
        if len(params) != N_PARAMS:
            raise ValueError(f"params has {len(params)} values, expected {N_PARAMS}")
        # The params array read back into named fields (the C kernel keeps a struct of doubles).
        self.s = HingeSettings(**dict(zip(PARAM_NAMES, (float(x) for x in params))))
        self.tracks = JointTracks()
        self.width_px = float(width_px)
        self.height_px = float(height_px)
        self.t_prev = -1e300
        self.side_l = self.side_r = 0.0  # decayed sums of left / right leg-and-torso scores
        self.near_left = True
        self.facing_acc = 0.0
        self.facing = 1  # +1 faces image-right
        self.leg_px = 0.0  # L, calibrated on standing frames; 0 = unknown
        self.torso_px = 0.0  # standing shoulder-hip length; 0 = unknown
        self.view_ratio = 0.0  # left-right spread of shoulders and hips / torso (0 side-on)
        self.t_front = -1e300  # when the lifter was last seen front-on (or the first frame)
        self.front_prev = 0  # whether the previous frame showed the lifter front-on
        self.t_turned = -1e300  # when two frames running last showed the lifter front-on (a turn, not a label's jump)
        self.trunk_deg = self.knee_deg = self.travel_L = 0.0
        self.shoulder_height_L = 1.5  # shoulders above the planted ankle, in leg lengths (~1.5 standing)
        self.ok = 0  # OK_* bits of the quantities measured in this frame (the trace, for grading)
        self.held = 0  # OK_* bits of the quantities measured within hold_s (the phases)
        self.hip_x = self.ankle_x = 0.0
        self.feet_x = self.pelvis_x = 0.0  # smoothed mean x of both ankles / both hips (label-free), px
        self.feet_seen = 0
        self.rest_x = self.rest_y = 0.0  # at the bar: the planted ankle, the mean of its track (px) ...
        self.rest_n = 0  # ... over this many observations since it settled there (0: none) ...
        self.rest_feet_x = 0.0  # ... and where the feet were then (feet_x)
        self.phase = PH_ABSENT
        self.t_present = -1e300
        self.t_upright = -1.0
        self.top_base_deg = 0.0  # trunk angle at lockout
        self.t_onset = self.knee_onset_deg = self.ankle_x_onset = 0.0
        self.onset_shoulder_L = 1.5
        self.max_trunk_deg = self.t_max_trunk = 0.0
        self.ref_trunk_deg = self.ref_knee_deg = self.t_progress = 0.0
        self.deep_trunk_deg = self.deep_knee_deg = self.t_deep = 0.0  # coarse depth steps: when the bottom was reached
        self.t_bottom = -1.0
        self.low_shoulder_L = 1e300  # the shoulders' lowest height since the hinge onset
        self.pend = 0
        self.pend_t_start = self.pend_t_bottom = self.pend_t_lockout = 0.0
        self.pend_hip_x = self.pend_ankle_x = 0.0
        self.pend_side_on = 0  # the lifter stood side-on (not seen front-on for turn_settle_s) at the lockout
        self.pend_floor = 0  # the rep's bottom was at the floor (shoulders below floor_shoulder_L)
        self.rep_n = self.rep_set_n = 0
        self.rep_t_start = self.rep_t_bottom = self.rep_t_lockout = 0.0
        self.set_active = self.set_n = self.reps_in_set = 0
        self.set_t_start = self.set_t_end = 0.0
        self.ended_set_n = self.ended_reps = 0
        self.ended_t_start = self.ended_t_end = 0.0
        self.frames = 0  # frames taken by update
        self.ring = TraceRing(trace_rows)  # their trace rows, for grading

    # ---------------------------------------------------------------- per frame
    def update(self, keypoints: npt.NDArray[np.float32], t_s: float) -> int:
        """A live frame (PhaseDetector.update): checked like `step`; skipped (0) unless time moves
        forward; stepped, its trace row kept and the frame counted; returns the event bits."""
        v = frame_values(keypoints)
        t = float(t_s)  # a float32 time would otherwise make part of the arithmetic float32
        if not t > self.t_prev:
            return 0  # a repeated or out-of-order timestamp carries no new information
        bits = self._advance(v, t)
        self.ring.append(t, self)
        self.frames += 1
        return bits

    def trace(self) -> F64:
        """The kept trace rows (TRACE_COLUMNS) of the frames taken by update, oldest first."""
        return self.ring.ordered()

    def step(self, keypoints: npt.NDArray[np.float32], t: float) -> int:
        """Feed one frame ((17, 3) [y, x, score] normalised; NaN = missing); return event bits."""
        return self._advance(frame_values(keypoints), float(t))

    def _advance(self, v: list[float], t: float) -> int:
        """The kernel's step over the frame's 51 values."""
        if t <= self.t_prev:
            return 0  # time must move forward (update skips such frames before they get here)
        if self.t_prev <= -1e299:
            self.t_front = t  # the sides are not known yet
        dt = t - self.t_prev if self.t_prev > -1e299 else 0.0
        self.t_prev = t
        self._vote_side(v, dt)
        tr = self.tracks
        locked = self.set_active or self.pend
        tr.lock_x = self.pend_ankle_x
        tr.lock_r = self.s.body_lock_L * self._scale() if locked else 0.0
        in_rep = PH_HINGE <= self.phase <= PH_ASCENT
        tr.plant_x = self.ankle_x_onset if in_rep else self.pend_ankle_x
        tr.plant_r = self.s.walk_L * self._scale() if self.feet_seen and (in_rep or locked) else 0.0
        tr.near_settled = int(in_rep or t - self.t_front > self.s.turn_settle_s)
        tr.oblique = int(self.view_ratio > self.s.oblique_view_ratio)  # far labels are the other limbs
        fuse_and_filter(tr, v, t, self.width_px, self.height_px, self.near_left, self._scale(), self.s)
        if tr.n_reinit >= 2:
            self.leg_px = self.torso_px = 0.0  # a camera cut or another body: measure anew
        self._quantities(v, t, dt)
        if not tr.frame_jump:
            self._update_feet(v, dt)
        return self._phases(t, dt)

    def finish(self, t: float) -> int:
        """End of input: a pending rep counts (the feet never left) unless it awaits the bar's
        lowering, an open set closes."""
        ev = 0
        if self.pend and not self._awaits_lowering():
            ev |= self._confirm()
        if self.set_active:
            ev |= self._end_set()
        return ev

    # ---------------------------------------------------------------- votes
    def _vote_side(self, v: list[float], dt: float) -> None:
        a = math.exp(-dt / self.s.side_window_s)
        sl = sr = 0.0
        for i in LEFT_SCORES:
            s = v[i]
            if s >= self.s.min_score:
                sl += s
        for i in RIGHT_SCORES:
            s = v[i]
            if s >= self.s.min_score:
                sr += s
        self.side_l = self.side_l * a + sl
        self.side_r = self.side_r * a + sr
        if self.near_left and self.side_r > self.s.side_switch_ratio * self.side_l:
            self.near_left = False
        elif not self.near_left and self.side_l > self.s.side_switch_ratio * self.side_r:
            self.near_left = True

    def _vote_facing(self, v: list[float], dt: float, knee_side: float) -> None:
        """Facing = nose ahead of the ears, chest ahead of the hips in a hinge, knees bending forward."""
        acc = self.facing_acc * math.exp(-dt / self.s.facing_window_s)
        ms = self.s.min_score
        ear_x = ear_n = 0.0
        for e in (L_EAR, R_EAR):
            if v[3 * e + 2] >= ms and v[3 * e + 1] == v[3 * e + 1]:
                ear_x += v[3 * e + 1]
                ear_n += 1.0
        nose_x = v[3 * NOSE + 1]
        if ear_n > 0.0 and v[3 * NOSE + 2] >= ms and nose_x == nose_x:
            # The nose sits ~0.1 L ahead of the ears side-on; half of that is a full vote.
            ahead = (nose_x - ear_x / ear_n) * self.width_px / (0.05 * self._scale())
            acc += max(-1.0, min(1.0, ahead))
        tr = self.tracks
        if self.held & OK_TRUNK and self.trunk_deg > 30.0:
            acc += 1.0 if tr.x[SHOULDER] > tr.x[HIP] else -1.0
        if knee_side != 0.0:
            acc += knee_side
        self.facing_acc = acc
        if acc > 0.0:
            self.facing = 1
        elif acc < 0.0:
            self.facing = -1

    # ---------------------------------------------------------------- quantities
    def _quantities(self, v: list[float], t: float, dt: float) -> None:
        tr = self.tracks
        hold = self.s.hold_s
        sh_fresh = tr.tracked[SHOULDER] and t - tr.t_seen[SHOULDER] <= hold
        hip_fresh = tr.tracked[HIP] and t - tr.t_seen[HIP] <= hold
        knee_fresh = tr.tracked[KNEE] and t - tr.t_seen[KNEE] <= hold
        ankle_fresh = tr.tracked[ANKLE] and t - tr.t_seen[ANKLE] <= self.s.hold_ankle_s
        # Seen in this very frame (the trace, for grading) vs within hold_s (the phases).
        sh_now, hip_now, knee_now = tr.t_seen[SHOULDER] == t, tr.t_seen[HIP] == t, tr.t_seen[KNEE] == t
        sx, sy, hx, hy = tr.x[SHOULDER], tr.y[SHOULDER], tr.x[HIP], tr.y[HIP]
        kx, ky = tr.x[KNEE], tr.y[KNEE]
        ax, ay = self._planted_ankle(t, dt)
        ok = held = 0
        self.hip_x, self.ankle_x = hx, ax
        torso_px = 0.0
        if sh_fresh and hip_fresh:
            held |= OK_TRUNK
            ok |= OK_TRUNK if sh_now and hip_now else 0
            self.t_present = t
            rise = hy - sy  # image y grows downwards
            horiz = abs(sx - hx)
            torso_px = math.hypot(horiz, rise)
            trunk = math.atan2(horiz, rise) * DEG
            oblique = (self.view_ratio - self.s.oblique_view_ratio) / self.s.oblique_view_ratio
            if self.torso_px > 0.0 and oblique > 0.0:
                # Turned from side-on, the horizontal part shrinks with cos(yaw) but the chest's drop
                # does not: trust the drop where it is precise (well away from upright).
                drop = math.acos(max(-1.0, min(1.0, rise / self.torso_px))) * DEG
                if drop > trunk:
                    w = min(max((drop - 20.0) / 20.0, 0.0), 1.0) * min(oblique, 1.0)
                    trunk += w * (drop - trunk)
            self.trunk_deg = trunk
        knee_side = 0.0
        leg_px = 0.0
        if hip_fresh and knee_fresh and ankle_fresh:
            held |= OK_KNEE
            ok |= OK_KNEE if hip_now and knee_now else 0
            ux, uy, wx, wy = hx - kx, hy - ky, ax - kx, ay - ky
            bend = 180.0 - math.atan2(abs(ux * wy - uy * wx), ux * wx + uy * wy) * DEG
            # Which side of the hip-ankle line the knee lies on: < 0 = image-right of it.
            side = (ax - hx) * (ky - hy) - (ay - hy) * (kx - hx)
            self.knee_deg = bend if side * self.facing <= 0.0 else -bend
            if bend > 20.0:
                knee_side = 1.0 if side < 0.0 else -1.0
            leg_px = math.hypot(ux, uy) + math.hypot(wx, wy)
        self._calibrate(leg_px, torso_px, dt)
        self._vote_facing(v, dt, knee_side)
        if hip_fresh and ankle_fresh and self.leg_px > 0.0:
            held |= OK_TRAVEL
            ok |= OK_TRAVEL if hip_now else 0
            self.travel_L = self.facing * (ax - hx) / self.leg_px
            if sh_fresh:
                self.shoulder_height_L = (ay - sy) / self.leg_px  # image y grows downwards
        self._update_view(v, dt)
        if self.view_ratio <= self.s.side_view_max:
            ok |= OK_SIDE
            held |= OK_SIDE
        self.ok = ok
        self.held = held

    def _planted_ankle(self, t: float, dt: float) -> tuple[float, float]:
        """The ankle for the knee angle and the hips' travel (px): at the bar (top through ascent)
        the feet stay put, so the mean of the ankle's track since it settled there (a moving mean
        over ankle_rest_s once longer) rather than the frame's jittery point; the track itself
        elsewhere. A step starts the mean again: the feet moving stance_change_L, or the track
        lying walk_L from the mean."""
        tr = self.tracks
        ax, ay = tr.x[ANKLE], tr.y[ANKLE]
        if self.phase == PH_ABSENT or self.leg_px <= 0.0:
            self.rest_n = 0
            return ax, ay
        if tr.tracked[ANKLE] and tr.t_seen[ANKLE] == t:
            stepped = abs(self.feet_x - self.rest_feet_x) > self.s.stance_change_L * self.leg_px
            if self.rest_n == 0 or stepped or math.hypot(ax - self.rest_x, ay - self.rest_y) > self.s.walk_L * self.leg_px:
                self.rest_x, self.rest_y, self.rest_n, self.rest_feet_x = ax, ay, 1, self.feet_x
            else:
                self.rest_n += 1
                a = max(1.0 / self.rest_n, 1.0 - math.exp(-dt / self.s.ankle_rest_s))
                self.rest_x += a * (ax - self.rest_x)
                self.rest_y += a * (ay - self.rest_y)
        return (self.rest_x, self.rest_y) if self.rest_n else (ax, ay)

    def _scale(self) -> float:
        """L in pixels; before the legs were measured, 1.6 torsos (legs ~0.9 m, torso ~0.55 m) or a guess."""
        if self.leg_px > 0.0:
            return self.leg_px
        if self.torso_px > 0.0:
            return 1.6 * self.torso_px
        return 0.3 * max(self.width_px, self.height_px)

    def _standing(self) -> bool:
        return self.trunk_deg <= self.s.top_deg and abs(self.knee_deg) <= self.s.top_knee_deg

    def _calibrate(self, leg_px: float, torso_px: float, dt: float) -> None:
        """Leg and torso lengths (0 = not measured now): first measurement, then standing frames."""
        a = 1.0 - math.exp(-dt / self.s.leg_calib_s)
        standing = self._standing()
        if leg_px > 0.0:
            if self.leg_px <= 0.0:
                self.leg_px = leg_px
            elif standing:
                self.leg_px += a * (leg_px - self.leg_px)
        if torso_px > 0.0:
            if self.torso_px <= 0.0:
                self.torso_px = torso_px
            elif standing:
                self.torso_px += a * (torso_px - self.torso_px)

    def _update_feet(self, v: list[float], dt: float) -> None:
        """Where the body stands, from both labels at once: immune to left/right swaps and to the
        near side changing, so that walking off can be told from a track switching legs."""
        a = 1.0 - math.exp(-dt / self.s.feet_smooth_s)
        for (li, ri), pelvis in (((15, 16), False), ((11, 12), True)):
            x = n = 0.0
            for i in (li, ri):
                xi = v[3 * i + 1]
                if v[3 * i + 2] >= self.s.min_score and xi == xi:
                    x += xi * self.width_px
                    n += 1.0
            if n == 0.0:
                continue
            if self.tracks.lock_r > 0.0 and abs(x / n - self.pend_ankle_x) > self.tracks.lock_r:
                continue  # another body, away from the lifter's spot
            if pelvis:
                self.pelvis_x = x / n if not self.feet_seen else self.pelvis_x + a * (x / n - self.pelvis_x)
            else:
                self.feet_x = x / n if not self.feet_seen else self.feet_x + a * (x / n - self.feet_x)
        self.feet_seen = 1

    def _update_view(self, v: list[float], dt: float) -> None:
        """How far from side-on: left-right spread of shoulders and hips over the torso length."""
        if self.torso_px <= 0.0:
            return
        ms = self.s.min_score
        spread = 0.0
        for li, ri in ((5, 6), (11, 12)):
            if v[3 * li + 2] >= ms and v[3 * ri + 2] >= ms:
                d = abs(v[3 * li + 1] - v[3 * ri + 1]) * self.width_px
                if d == d:
                    spread += d
        a = 1.0 - math.exp(-dt / self.s.side_window_s)
        front = int(spread / (2.0 * self.torso_px) > self.s.side_view_max)
        if front:
            self.t_front = self.t_prev  # front-on: maybe turning round
            if self.front_prev:
                self.t_turned = self.t_prev
        self.front_prev = front
        self.view_ratio += a * (spread / (2.0 * self.torso_px) - self.view_ratio)

    # ---------------------------------------------------------------- phases, reps, sets
    def _set_phase(self, phase: int) -> int:
        if phase == self.phase:
            return 0
        self.phase = phase
        return EV_PHASE

    def _phases(self, t: float, dt: float) -> int:
        ev = 0
        if self.set_active and self.phase in (PH_TOP, PH_ABSENT) and not self.pend:
            gone = self.phase == PH_ABSENT and t - self.t_present > self.s.set_leave_s
            if gone or t - self.set_t_end > self.s.set_rest_s:
                ev |= self._end_set()
        if not self.held & OK_TRUNK:
            if self.phase != PH_ABSENT and t - self.t_present > self.s.absent_s:
                self.pend = 0  # left right after standing up: a plate carried off, not a rep
                self.t_upright = -1.0
                ev |= self._set_phase(PH_ABSENT)
            return ev
        trunk, knee, phase = self.trunk_deg, self.knee_deg, self.phase
        if phase not in (PH_ABSENT, PH_TOP) and self.held & OK_TRAVEL:  # down or up: the rep's lowest point
            self.low_shoulder_L = min(self.low_shoulder_L, self.shoulder_height_L)
        if phase == PH_ABSENT:
            if self._standing():
                if self.t_upright < 0.0:
                    self.t_upright = t
                if t - self.t_upright >= self.s.top_enter_s:
                    self._at_top(t)
                    ev |= self._set_phase(PH_TOP)
            else:
                self.t_upright = -1.0
        elif phase == PH_TOP:
            ev |= self._top(t, dt)
        elif phase == PH_ASCENT:
            if self._standing():
                if t - self.t_onset >= self.s.min_rep_s and t - self.t_bottom >= self.s.min_ascent_s:
                    self._lockout(t)
                self._at_top(t)
                ev |= self._set_phase(PH_TOP)
        else:
            ev |= self._descent(t, trunk, knee)
        if self.pend:
            ev |= self._check_pending(t)
        return ev

    def _check_pending(self, t: float) -> int:
        """A pending rep is dropped if the feet walk off; it counts after standing still for the
        confirmation time or once the next descent reaches a real bottom (not on a mere lean,
        which a lifter turning to walk away also shows)."""
        tr = self.tracks
        if tr.t_off >= 0.0:  # the feet were seen away from the plant, and not back on it since
            if tr.off_plant and t - tr.t_off >= self.s.plant_hold_s:
                self.pend = 0  # and still are, after long: walked off
            return 0  # someone passing may hide them: decide once they show again
        reach = self.s.walk_L * self._scale()
        walked = abs(self.pelvis_x - self.pend_hip_x) > reach and self.phase == PH_TOP
        if walked or abs(self.feet_x - self.pend_ankle_x) > reach or self._turned_away():
            self.pend = 0
            return 0
        if self.phase == PH_TOP and self._awaits_lowering():
            if t - self.pend_t_lockout > self.s.floor_lowered_within_s:
                self.pend = 0  # never lowered again: stood up after setting the bar down
            return 0
        if self.phase == PH_TOP:
            wait = self.s.first_confirm_s if self._opens_set() else self.s.confirm_s
            return self._confirm() if t - self.pend_t_lockout >= wait else 0
        if self.phase == PH_ABSENT or self.max_trunk_deg < self.s.bottom_min_deg:
            return 0
        if self._awaits_lowering() and self.onset_shoulder_L - self.low_shoulder_L < self.s.lowered_drop_L:
            return 0  # the shoulders have not (yet) come down: a lean, or a misread trunk
        return self._confirm()

    def _awaits_lowering(self) -> bool:
        return awaits_lowering(self.pend_floor, self.s)

    def _turned_away(self) -> bool:
        """A first rep whose lifter, side-on at the lockout, turned to face the camera right after
        it: nobody holding a loaded bar across the line of sight turns with it, but someone who
        bent for a plate turns to walk off at once."""
        t_turn = self.t_turned - self.pend_t_lockout
        return bool(self.pend_side_on and 0.0 < t_turn <= self.s.turn_away_s and self._opens_set())

    def _at_top(self, t: float) -> None:
        self.top_base_deg = self.trunk_deg
        self._mark_onset(t)

    def _mark_onset(self, t: float) -> None:
        self.t_onset = t
        self.knee_onset_deg = self.knee_deg
        self.ankle_x_onset = self.feet_x
        self.onset_shoulder_L = self.shoulder_height_L

    def _top(self, t: float, dt: float) -> int:
        ev = 0
        trunk = self.trunk_deg
        # The lockout angle: a running mean over still frames. Onset = the last still frame.
        a = 1.0 - math.exp(-dt / self.s.top_base_s)
        self.top_base_deg, still = _follow_level(trunk, self.top_base_deg, self.s.onset_margin_deg, a)
        if still:
            self._mark_onset(t)
        if trunk > self.s.hinge_deg:
            ev |= self._begin_descent(t)
        return ev

    def _begin_descent(self, t: float) -> int:
        self.max_trunk_deg = self.ref_trunk_deg = self.deep_trunk_deg = self.trunk_deg
        self.ref_knee_deg = self.deep_knee_deg = self.knee_deg
        self.t_max_trunk = self.t_progress = self.t_deep = t
        self.t_bottom = -1.0
        self.low_shoulder_L = 1e300
        return self._set_phase(PH_HINGE)

    def _descent(self, t: float, trunk: float, knee: float) -> int:
        ev = 0
        if trunk > self.max_trunk_deg:
            self.max_trunk_deg, self.t_max_trunk = trunk, t
        deeper = False
        if trunk > self.ref_trunk_deg + DEPTH_STEP_DEG:
            self.ref_trunk_deg = trunk
            deeper = True
        if self.held & OK_KNEE and knee > self.ref_knee_deg + KNEE_STEP_DEG:
            self.ref_knee_deg = knee
            deeper = True
        if deeper:
            self.t_progress = t
        if trunk > self.deep_trunk_deg + BOTTOM_STEP * DEPTH_STEP_DEG:
            self.deep_trunk_deg, self.t_deep = trunk, t
        if self.held & OK_KNEE and knee > self.deep_knee_deg + BOTTOM_STEP * KNEE_STEP_DEG:
            self.deep_knee_deg, self.t_deep = knee, t
        real = self.max_trunk_deg >= self.s.bottom_min_deg
        if real and trunk < self.max_trunk_deg - self.s.ascent_drop_deg:
            if self.t_bottom < 0.0:
                self.t_bottom = self.t_deep
            if self.t_bottom - self.t_onset < self.s.min_descent_s:
                self._at_top(t)  # too fast to be a lift: a glitch of the keypoints
                return self._set_phase(PH_TOP)
            return self._set_phase(PH_ASCENT)
        if trunk < self.s.top_deg:
            self._at_top(t)  # a partial dip: back at the top without a real bottom
            return self._set_phase(PH_TOP)
        bent = self.held & OK_KNEE and knee - self.knee_onset_deg > self.s.knee_bend_deg
        if self.phase == PH_BOTTOM:
            if deeper:  # the descent went on after a pause
                self.t_bottom = -1.0
                ev |= self._set_phase(PH_KNEE_BEND if bent else PH_HINGE)
        elif real and t - self.t_progress >= self.s.bottom_still_s:
            self.t_bottom = self.t_deep
            ev |= self._set_phase(PH_BOTTOM)
        elif self.phase == PH_HINGE and bent:
            ev |= self._set_phase(PH_KNEE_BEND)
        return ev

    def _lockout(self, t: float) -> None:
        """Standing again after a real bottom: a rep, pending until the feet prove it was one."""
        self.pend_t_start = self.t_onset
        self.pend_t_bottom = self.t_bottom
        self.pend_t_lockout = t
        self.pend_hip_x = self.pelvis_x
        self.pend_ankle_x = self.feet_x
        self.pend_side_on = int(t - self.t_front > self.s.turn_settle_s)
        self.pend_floor = int(self.low_shoulder_L < self.s.floor_shoulder_L)
        self.pend = int(abs(self.feet_x - self.ankle_x_onset) <= self.s.walk_L * self._scale())

    def _opens_set(self) -> int:
        """Whether the pending rep would be the first of a set."""
        return not self.set_active or self.pend_t_start - self.set_t_end > self.s.set_rest_s

    def _confirm(self) -> int:
        ev = 0
        self.pend = 0
        if self.set_active and self._opens_set():
            ev |= self._end_set()
        if not self.set_active:
            self.set_active = 1
            self.set_n += 1
            self.reps_in_set = 0
            self.set_t_start = self.pend_t_start
            ev |= EV_SET_STARTED
        self.reps_in_set += 1
        self.set_t_end = self.pend_t_lockout
        self.rep_n += 1
        self.rep_set_n = self.set_n
        self.rep_t_start = self.pend_t_start
        self.rep_t_bottom = self.pend_t_bottom
        self.rep_t_lockout = self.pend_t_lockout
        return ev | EV_REP

    def _end_set(self) -> int:
        self.set_active = 0
        self.ended_set_n = self.set_n
        self.ended_reps = self.reps_in_set
        self.ended_t_start = self.set_t_start
        self.ended_t_end = self.set_t_end
        self.reps_in_set = 0
        return EV_SET_ENDED


def _follow_level(value: float, level: float, margin: float, a: float) -> tuple[float, bool]:
    """A resting level: follows values within margin slowly, drops below it at once. (level, at rest)."""
    if value < level - margin:
        return value, True
    if value <= level + margin:
        return level + a * (value - level), True
    return level, False


def awaits_lowering(pend_floor: int, s: HingeSettings) -> bool:
    """A pending rep from the floor counts once the bar goes back down (floor -> lockout ->
    floor): standing up after setting the last rep down is not one (every kernel's rule)."""
    return bool(pend_floor and s.floor_lowered_within_s > 0.0)


def event_record(core: Core, frame: int, bits: int, t: float) -> tuple[float, ...]:
    """The EVENT_COLUMNS row for a frame whose step (or finish) returned these bits."""
    return (
        frame, bits, t, core.phase,
        core.rep_n, core.rep_set_n, core.rep_t_start, core.rep_t_bottom, core.rep_t_lockout,
        core.set_n, core.set_t_start, core.ended_set_n, core.ended_reps, core.ended_t_start, core.ended_t_end,
    )  # fmt: skip


def run_batch(core: Core, keypoints: npt.NDArray[np.float32], t: npt.NDArray[np.float64]) -> tuple[F64, F64]:
    """Step over a recording, then finish: event records (EVENT_COLUMNS) and the trace (TRACE_COLUMNS)."""
    keypoints, t = batch_arrays(keypoints, t)
    n = int(keypoints.shape[0])
    records: list[tuple[float, ...]] = []
    trace = np.empty((n, len(TRACE_COLUMNS)), dtype=np.float64)
    for i in range(n):
        ti = float(t[i])
        bits = core.step(keypoints[i], ti)
        if bits:
            records.append(event_record(core, i, bits, ti))
        trace[i] = (ti, core.phase, core.trunk_deg, core.knee_deg, core.travel_L, core.ok)
    if n:
        bits = core.finish(float(t[-1]))
        if bits:
            records.append(event_record(core, n, bits, float(t[-1])))
    out = np.array(records, dtype=np.float64).reshape(len(records), len(EVENT_COLUMNS))
    return out, trace
