"""Numbers shared by every kernel: params order, phase codes, event bits, trace columns.

The C kernel mirrors these exactly; `tests/hinge/test_layout.py` pins them.
"""

from __future__ import annotations

from array import array

from station.errors import ConfigError
from station.settings.hinge import HingeSettings, param_names
from station.types import Phase

PARAM_NAMES: tuple[str, ...] = param_names()
N_PARAMS = len(PARAM_NAMES)

# Phase codes (int) in the order of the cycle; PHASES[code] is the enum.
PH_ABSENT, PH_TOP, PH_HINGE, PH_KNEE_BEND, PH_BOTTOM, PH_ASCENT = range(6)
PHASES: tuple[Phase, ...] = (
    Phase.ABSENT, Phase.TOP, Phase.HINGE, Phase.KNEE_BEND, Phase.BOTTOM, Phase.ASCENT,
)  # fmt: skip

# Bits returned by Core.step / Core.finish, emitted in this order within one frame.
EV_SET_ENDED = 1
EV_SET_STARTED = 2
EV_REP = 4
EV_PHASE = 8

# Per-frame validity bits of the quantities (fresh observations, not held ones).
OK_TRUNK = 1  # phi: shoulder and hip measured
OK_KNEE = 2  # kappa: hip, knee and ankle measured
OK_TRAVEL = 4  # d: hip and ankle measured, facing known, leg length known
OK_SIDE = 8  # the view is side-on enough to grade

# Columns of the per-frame trace written by run_batch (and kept by PhaseDetector).
TRACE_COLUMNS: tuple[str, ...] = ("t_s", "phase", "trunk_deg", "knee_deg", "travel_L", "ok")
T_COL, PHASE_COL, TRUNK_COL, KNEE_COL, TRAVEL_COL, OK_COL = range(len(TRACE_COLUMNS))

# Columns of one event record: a frame whose step returned non-zero bits, with the core's
# rep and set fields at that moment (run_batch returns these; PhaseDetector builds the same).
EVENT_COLUMNS: tuple[str, ...] = (
    "frame", "bits", "t_s", "phase",
    "rep_n", "rep_set_n", "rep_t_start", "rep_t_bottom", "rep_t_lockout",
    "set_n", "set_t_start", "ended_set_n", "ended_reps", "ended_t_start", "ended_t_end",
)  # fmt: skip


# Rows of the trace a live core keeps for grading (Core.update): 68 s at 60 fps, longer than any descent.
TRACE_ROWS = 4096

# Settings the kernels divide by (exp(-dt / window), the oblique view's scale, One Euro's cutoffs):
# zero or a negative value would raise ZeroDivisionError or OverflowError mid-stream, or make a filter
# diverge, so pack_params refuses them up front. Each maps to what it is, for the error message.
POSITIVE: dict[str, str] = {
    "side_window_s": "the time constant of the near-side vote, in seconds",
    "facing_window_s": "the time constant of the facing vote, in seconds",
    "leg_calib_s": "the time constant of the leg-length calibration, in seconds",
    "ankle_rest_s": "the time constant of the planted ankle, in seconds",
    "feet_smooth_s": "the time constant of the feet position, in seconds",
    "top_base_s": "the time constant of the lockout angle, in seconds",
    "oblique_view_ratio": "a view ratio the kernel divides by",
    "euro_min_cutoff_hz": "the One Euro filter's cutoff at rest, in hertz",
    "euro_d_cutoff_hz": "the One Euro filter's speed cutoff, in hertz",
}


def pack_params(settings: HingeSettings) -> array:
    """The settings as the flat float64 params array every kernel takes; ConfigError for a value
    no kernel can run on (not a number, NaN, or a time constant or divisor that is not positive)."""
    values = array("d")
    for name in PARAM_NAMES:
        raw = getattr(settings, name)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise _refused(name, f"must be a number, got {raw!r}") from None
        if value != value:
            raise _refused(name, "is NaN")
        if name in POSITIVE and not value > 0.0:
            raise _refused(name, f"must be positive ({POSITIVE[name]}), got {value!r}")
        values.append(value)
    return values


def _refused(name: str, problem: str) -> ConfigError:
    kind = "a positive number" if name in POSITIVE else "a number"
    return ConfigError(
        f"[hinge] {name} {problem}: set it (or STATION_HINGE__{name.upper()}) to {kind} such as its default "
        f"{getattr(HingeSettings, name)}"
    )
