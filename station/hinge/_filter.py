"""Stage 1 of the reference core: keypoints -> four tracked sagittal joints (plain floats).

Per joint type (shoulder, hip, knee, ankle) the left and right labels are fused into one
track: the near-side label is preferred, the other label wins when it lies clearly closer to
the track (a left/right swap) and, in a view turned from side-on (where it is the other limb),
counts alone only where it lies on the track; points beyond a speed-aware gate are outliers,
a jump that stays put for `reacquire_s` restarts the track there, and a One Euro filter keyed
on timestamps smooths what is kept. The C kernel mirrors this file function by function.
"""

from __future__ import annotations

import math

from station.settings.hinge import HingeSettings

# MoveNet (left, right) indices of the joints the detector tracks, in track order.
LABELS: tuple[tuple[int, int], ...] = ((5, 6), (11, 12), (13, 14), (15, 16))
SHOULDER, HIP, KNEE, ANKLE = 0, 1, 2, 3
N_JOINTS = 4
TWO_PI = 2.0 * math.pi
# Labels closer than this (in leg lengths) show the same joint: ~3x a joint's per-frame jitter
# (~0.015 L), and the left-right spread of the legs seen 10° from side-on (hip width ~0.33 L x
# sin 10°). Side-on both labels coincide; turned further, the far label is the other limb.
SAME_SIDE_L = 0.05


def euro_alpha(cutoff_hz: float, dt_s: float) -> float:
    """Smoothing factor of a first-order low-pass with this cutoff over dt (One Euro)."""
    r = TWO_PI * cutoff_hz * dt_s
    return r / (r + 1.0)


class JointTracks:
    """Four joint tracks as parallel lists of floats (one C array each)."""

    __slots__ = (
        "x", "y", "vx", "vy", "t_seen", "tracked", "rej_x", "rej_y", "t_rej", "n_reinit",
        "cand_x", "cand_y", "status", "near_left", "t_far", "restart", "frame_jump", "lock_x", "lock_r",
        "oblique", "near_settled", "plant_x", "plant_r", "off_plant", "t_off",
    )  # fmt: skip

    def __init__(self) -> None:
        self.x = [0.0] * N_JOINTS  # filtered position, px
        self.y = [0.0] * N_JOINTS
        self.vx = [0.0] * N_JOINTS  # filtered velocity, px/s
        self.vy = [0.0] * N_JOINTS
        self.t_seen = [-1e300] * N_JOINTS  # time of the last accepted observation
        self.tracked = [0] * N_JOINTS
        self.rej_x = [0.0] * N_JOINTS  # the last rejected candidate (a jump that may be real)
        self.rej_y = [0.0] * N_JOINTS
        self.t_rej = [-1.0] * N_JOINTS  # first time of the current run of rejections, -1 if none
        self.n_reinit = 0  # joints restarted in the last frame
        self.frame_jump = 0  # the last frame was dropped as a jump of the body
        self.lock_x = 0.0  # during a set: the lifter's spot (feet x, px) ...
        self.lock_r = 0.0  # ... and how far from it a track may restart (0: anywhere)
        self.oblique = 0  # the view is turned from side-on: the far labels are the other limbs
        self.near_settled = 0  # the near side cannot have changed lately (no turn round): a far label off its track is the other limb
        self.plant_x = 0.0  # during a rep or a set: where the lifter's feet are planted (x, px) ...
        self.plant_r = 0.0  # ... and how far from it an ankle may be seen (0: no check)
        self.off_plant = 0  # the last frame's ankles were seen, all away from the planted feet
        self.t_off = -1.0  # since when the ankles were seen off the plant and not back on it, -1 if not
        self.cand_x = [0.0] * N_JOINTS  # scratch: this frame's chosen candidate per joint
        self.cand_y = [0.0] * N_JOINTS
        self.status = [0] * N_JOINTS  # scratch: 0 none, 1 accepted, 2 rejected (outside the gate), 3 accepted on the speed allowance
        self.near_left = True  # which labels the tracks follow
        self.t_far = [-1.0] * N_JOINTS  # first time of the current run on the far label, -1 if none
        self.restart = [0] * N_JOINTS  # scratch: restart this track on this frame's point


def fuse_and_filter(
    tr: JointTracks,
    v: list[float],
    t: float,
    width_px: float,
    height_px: float,
    near_left: bool,
    scale_px: float,
    p: HingeSettings,
) -> None:
    """Update the four tracks from one frame of 51 floats ([y, x, score] x 17, normalised)."""
    cand_x, cand_y, status, restart = tr.cand_x, tr.cand_y, tr.status, tr.restart
    if near_left != tr.near_left:
        # The other side now scores higher: restart every track on its labels together, so
        # that the chain never mixes sides (they lie far apart once the lifter turns).
        tr.near_left = near_left
        for j in range(N_JOINTS):
            tr.tracked[j] = 0
    feet = _plant_state(tr, v, width_px, p.min_score) if tr.plant_r > 0.0 else 1
    if feet > 0:
        tr.t_off = -1.0
    elif feet < 0 and tr.t_off < 0.0:
        tr.t_off = t
    tr.off_plant = int(feet < 0)
    if tr.off_plant and t - tr.t_off < p.plant_hold_s:
        # Ankles seen, none where the lifter's feet are planted: someone else (a person walking in
        # front, MoveNet locked onto them) or the lifter walking off: drop the frame. Off the plant
        # for longer, the lifter moved (or the plant was misread): they are followed again.
        tr.frame_jump = 1
        tr.n_reinit = 0
        return
    n_acc = 0
    n_rej = 0
    for j in range(N_JOINTS):
        li, ri = LABELS[j]
        ni, fi = (li, ri) if near_left else (ri, li)
        nx = v[3 * ni + 1] * width_px
        ny = v[3 * ni] * height_px
        ns = v[3 * ni + 2]
        fx = v[3 * fi + 1] * width_px
        fy = v[3 * fi] * height_px
        fs = v[3 * fi + 2]
        # NaN fails every comparison, so a NaN point is never valid.
        n_ok = ns >= p.min_score and nx == nx and ny == ny
        f_ok = fs >= p.min_score and fx == fx and fy == fy
        status[j] = 0
        restart[j] = 0
        if not (n_ok or f_ok):
            continue
        if not tr.tracked[j]:
            # Start on the near-side label so that the whole chain comes from one side.
            cand_x[j], cand_y[j] = (nx, ny) if n_ok else (fx, fy)
            status[j] = 1
            n_acc += 1
            continue
        dt = t - tr.t_seen[j]
        lead = dt if dt < 0.2 else 0.2  # extrapolate only over short gaps
        px = tr.x[j] + tr.vx[j] * lead
        py = tr.y[j] + tr.vy[j] * lead
        gate = (p.joint_gate_L + p.max_speed_L_s * dt) * scale_px
        base = p.joint_gate_L * scale_px  # the gate without the speed allowance
        same = SAME_SIDE_L * scale_px
        # The label on track; if both are, the clearly closer one (turned from side-on the other
        # is the other limb; a swap puts the far label on track), else the better scored. Alone,
        # in such a turned view, the far label counts only where it lies on the track: mixing
        # sides bends every angle. So too, whatever the scores, once the near side is settled: the
        # near leg's knee, its score lowered behind the plates, is not swapped for the other's.
        n_dist = math.hypot(nx - px, ny - py)
        f_dist = math.hypot(fx - px, fy - py)
        n_in = n_ok and n_dist <= gate
        f_in = f_ok and f_dist <= gate
        if f_in and not n_ok and tr.oblique and f_dist > same:
            continue  # only the other side's point: no observation of this joint in this frame
        other_limb = tr.oblique and tr.near_settled and f_dist > same
        if n_in and (not f_in or other_limb or n_dist + same < f_dist or (ns >= fs and n_dist <= f_dist + same)):
            cand_x[j], cand_y[j] = nx, ny
            status[j] = 1 if n_dist <= base else 3
            n_acc += 1
            tr.t_far[j] = -1.0
        elif f_in and (n_in or not tr.oblique or f_dist <= same):
            cand_x[j], cand_y[j] = fx, fy
            status[j] = 1 if f_dist <= base else 3
            n_acc += 1
            if not n_ok:
                tr.t_far[j] = -1.0
            elif tr.t_far[j] < 0.0:
                tr.t_far[j] = t
            elif t - tr.t_far[j] >= p.reacquire_s:
                # Following the far label for long while the near one is seen elsewhere: the
                # track had locked onto a mislabelled point. Start again on the near label.
                cand_x[j], cand_y[j] = nx, ny
                restart[j] = 1
                status[j] = 1
                tr.t_far[j] = -1.0
        else:
            cand_x[j], cand_y[j] = (nx, ny) if n_ok else (fx, fy)
            status[j] = 2
            n_rej += 1
    if n_rej or n_acc > _count(status, 3) or (tr.plant_r > 0.0 and status[ANKLE] == 3):
        # Joints that moved beyond the base gate count only if the whole body moved with them, and
        # not while the feet are planted: the speed allowance is for a lifter moving while unseen,
        # not for another body arriving.
        for j in range(N_JOINTS):
            if status[j] == 3:
                status[j] = 2
                n_rej += 1
                n_acc -= 1
    # Two or more joints off their tracks in one frame = the body jumped: drop the frame.
    frame_jump = n_rej >= 2 and n_rej >= n_acc
    tr.frame_jump = int(frame_jump)
    tr.n_reinit = 0
    for j in range(N_JOINTS):
        s = status[j]
        if (s == 1 or s == 3) and not frame_jump:
            tr.t_rej[j] = -1.0
            if restart[j]:
                _start(tr, j, cand_x[j], cand_y[j], t)
            elif tr.tracked[j]:
                _euro_update(tr, j, cand_x[j], cand_y[j], t, scale_px, p)
            else:
                _start(tr, j, cand_x[j], cand_y[j], t)
        elif s == 2:
            _note_rejection(tr, j, cand_x[j], cand_y[j], t, scale_px, p)


def _count(values: list[int], value: int) -> int:
    return sum(1 for x in values if x == value)


def _plant_state(tr: JointTracks, v: list[float], width_px: float, min_score: float) -> int:
    """1: an ankle label lies within plant_r of the planted feet; -1: ankles seen, none there; 0: none seen."""
    state = 0
    for i in (15, 16):
        x = v[3 * i + 1] * width_px
        if v[3 * i + 2] >= min_score and x == x:
            if abs(x - tr.plant_x) <= tr.plant_r:
                return 1
            state = -1
    return state


def _start(tr: JointTracks, j: int, x: float, y: float, t: float) -> None:
    tr.x[j], tr.y[j] = x, y
    tr.vx[j] = tr.vy[j] = 0.0
    tr.t_seen[j] = t
    tr.tracked[j] = 1
    tr.t_rej[j] = -1.0


def _note_rejection(tr: JointTracks, j: int, x: float, y: float, t: float, scale_px: float, p: HingeSettings) -> None:
    """A rejected point that stays put for reacquire_s is real: restart the track there."""
    consistent = tr.t_rej[j] >= 0.0 and math.hypot(x - tr.rej_x[j], y - tr.rej_y[j]) <= p.joint_gate_L * scale_px
    if tr.lock_r > 0.0 and abs(x - tr.lock_x) > tr.lock_r:
        consistent = False  # someone else, away from the lifter's spot: never follow them
    if not consistent:
        tr.t_rej[j] = t
    elif t - tr.t_rej[j] >= p.reacquire_s:
        _start(tr, j, x, y, t)
        tr.n_reinit += 1
        return
    tr.rej_x[j], tr.rej_y[j] = x, y


def _euro_update(tr: JointTracks, j: int, x: float, y: float, t: float, scale_px: float, p: HingeSettings) -> None:
    """One Euro filter step on both coordinates, cutoff driven by the joint's speed in L/s."""
    dt = t - tr.t_seen[j]
    if dt <= 0.0:
        return
    ad = euro_alpha(p.euro_d_cutoff_hz, dt)
    tr.vx[j] += ad * ((x - tr.x[j]) / dt - tr.vx[j])
    tr.vy[j] += ad * ((y - tr.y[j]) / dt - tr.vy[j])
    speed_L_s = math.hypot(tr.vx[j], tr.vy[j]) / scale_px
    a = euro_alpha(p.euro_min_cutoff_hz + p.euro_beta * speed_L_s, dt)
    tr.x[j] += a * (x - tr.x[j])
    tr.y[j] += a * (y - tr.y[j])
    tr.t_seen[j] = t
