"""Plain data passed between the parts of the station. Units are in the names.

Keypoints are a float32 array of shape (17, 3), rows in MoveNet order, each
``[y, x, score]`` with y and x normalised to the frame (0..1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import numpy as np
import numpy.typing as npt

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
KEYPOINT_COUNT = 17

Keypoints = npt.NDArray[np.float32]  # (17, 3) [y, x, score], normalised
KEY_NAMES: tuple[str, ...] = ("unlock_knees", "hips_back_chest_down", "knees_after_hips")


class Phase(str, Enum):
    """Where the lifter is in a rep (HINGE_SPEC: Phases and reps)."""

    ABSENT = "absent"
    TOP = "top"
    HINGE = "hinge"
    KNEE_BEND = "knee_bend"
    BOTTOM = "bottom"
    ASCENT = "ascent"


@dataclass(frozen=True)
class Frame:
    """One camera or video frame: RGB pixels and the time it was captured."""

    image_rgb: npt.NDArray[np.uint8]  # (height, width, 3), RGB order
    t_s: float  # capture time in seconds, strictly increasing within a source
    index: int = 0

    @property
    def width_px(self) -> int:
        return int(self.image_rgb.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.image_rgb.shape[0])


@dataclass(frozen=True)
class KeypointFrame:
    """Keypoints that arrive without pixels (a recording or the simulated lifter): no model needed."""

    keypoints: Keypoints
    t_s: float
    width_px: int
    height_px: int
    index: int = 0


@dataclass(frozen=True)
class KeyGrade:
    """The grade of one of the three keys on one rep's descent."""

    ok: bool | None  # None: could not judge (occlusion, wrong view)
    value: float | None
    cue: str
    fault: str | None = None  # e.g. "arched" or "rounded" for hips_back_chest_down
    reason: str | None = None  # why ok is None, e.g. "not side-on": said to the user instead of a grade

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"ok": self.ok, "value": self.value, "cue": self.cue}
        if self.fault is not None:
            out["fault"] = self.fault
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Rep:
    """A counted rep with the grades of its descent."""

    n: int  # rep number within the recording / station session, from 1
    set_n: int
    t_start_s: float
    t_bottom_s: float
    t_lockout_s: float
    descent_s: float
    ascent_s: float
    keys: dict[str, KeyGrade] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n,
            "set": self.set_n,
            "t_start": self.t_start_s,
            "t_bottom": self.t_bottom_s,
            "t_lockout": self.t_lockout_s,
            "descent_s": self.descent_s,
            "ascent_s": self.ascent_s,
            "keys": {name: grade.to_json() for name, grade in self.keys.items()},
        }


@dataclass(frozen=True)
class PhaseChanged:
    t_s: float
    phase: Phase
    kind: Literal["phase"] = "phase"


@dataclass(frozen=True)
class RepCompleted:
    t_s: float
    rep: Rep
    kind: Literal["rep"] = "rep"


@dataclass(frozen=True)
class SetStarted:
    t_s: float
    set_n: int
    kind: Literal["set_started"] = "set_started"


@dataclass(frozen=True)
class SetEnded:
    t_s: float
    set_n: int
    reps: int
    t_start_s: float
    kind: Literal["set_ended"] = "set_ended"
    discarded: bool = False  # staff reset the set from the page: kept in the history, marked discarded


Event = PhaseChanged | RepCompleted | SetStarted | SetEnded
