"""Ground truth of a simulated recording: the reps a correct detector counts and how it grades them."""

from __future__ import annotations

from dataclasses import dataclass, field

from station.recording import Recording
from station.types import KEY_NAMES

# Which key each fault belongs to (HINGE_SPEC "The three keys").
FAULT_KEY: dict[str, str] = {
    "locked": "unlock_knees",
    "arched": "hips_back_chest_down",
    "rounded": "hips_back_chest_down",
    "early_knee_bend": "knees_after_hips",
    "back_reach": "knees_after_hips",
    "leaves_wall": "knees_after_hips",
}
FAULTS: tuple[str, ...] = tuple(FAULT_KEY)
FLOOR_ONLY_FAULTS: frozenset[str] = frozenset({"leaves_wall"})  # needs a knee bend after the wall point


def faults_dict(rep_faults: tuple[str, ...]) -> dict[str, str | None]:
    """Map every key name to its fault on this rep (None = good)."""
    out: dict[str, str | None] = {key: None for key in KEY_NAMES}
    for fault in rep_faults:
        out[FAULT_KEY[fault]] = fault
    return out


@dataclass(frozen=True)
class TruthRep:
    """One rep a correct detector counts; `faults` grades the descent that led to `t_bottom_s`."""

    t_bottom_s: float  # the graded descent reaches its lowest point
    t_lockout_s: float  # the ascent reaches lockout: the rep is counted here
    set_n: int
    faults: dict[str, str | None]
    t_start_s: float = 0.0  # hinge onset of the graded descent (trunk starts tipping)
    t_wall_s: float = 0.0  # the wall point: the hips stop travelling back
    lift: str = "rdl"  # "rdl" or "deadlift" (to the floor)
    measures: dict[str, float] = field(default_factory=dict)  # HINGE_SPEC quantities on the noise-free render


@dataclass(frozen=True)
class TruthSet:
    """A set: `reps` counted reps, from the first hinge onset to the last lockout."""

    n: int
    reps: int
    t_start_s: float
    t_end_s: float


@dataclass(frozen=True)
class SimTruth:
    """Everything a perfect detector would report for a simulated recording."""

    reps: list[TruthRep]
    sets: list[TruthSet]
    gradable: bool  # False where the view makes grading impossible (front view)
    clean: Recording | None = None  # the same motion without MoveNet noise (scores 1 in frame, 0 outside)
    facing: int = 1  # +1 image-right, -1 image-left (while lifting)
