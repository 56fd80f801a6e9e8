"""Numbers shared by every kernel: params order, phase codes, event bits, trace columns.

The C kernel mirrors these exactly; `tests/hinge/test_layout.py` pins them.
"""

from __future__ import annotations

from array import array

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


def pack_params(settings: HingeSettings) -> array:
    """The settings as the flat float64 params array every kernel takes."""
    return array("d", (float(getattr(settings, name)) for name in PARAM_NAMES))
