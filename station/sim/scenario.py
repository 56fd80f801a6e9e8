"""Named simulated situations: what the lifter does and how the camera and MoveNet see it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from station.settings.hinge import HingeSettings
from station.sim.truth import FAULTS, FLOOR_ONLY_FAULTS

DISTRACTORS: tuple[str, ...] = ("standing", "walk_in_out", "plate_pickup", "crossing")
FRAME_SIZES: tuple[tuple[int, int], ...] = ((1280, 720), (720, 1280), (640, 480), (480, 640))


@dataclass(frozen=True)
class Scenario:
    """One simulated recording's recipe; `simulate(scenario, seed)` draws the rest (body, tempos)."""

    name: str
    lift: str = "rdl"  # "rdl" (top -> wall point -> top) or "deadlift" (to the floor)
    reps_per_set: tuple[int, ...] = (5,)  # one entry per set; () = no lifting at all
    faults: tuple[str, ...] = ("good",)  # pool each rep's fault is drawn from; "a+b" = two faults
    facing: int = 1  # +1 faces image-right, -1 image-left, 0 random
    yaw_deg: float = 0.0  # turned from side-on toward the camera: 0 side, 30 oblique, 90 front
    width_px: int = 1280
    height_px: int = 720
    fps: float = 30.0
    fps_jitter: float = 0.1  # standard deviation of the frame interval, as a fraction of it
    noise: float = 0.3  # MoveNet-like noise: 0 clean clip .. 1 "bad clip" (chain visible ~40%)
    distractor: str | None = None  # one of DISTRACTORS, instead of (or, "crossing", during) sets
    crossing: bool = False  # a second person crosses the frame during the first set
    rest_s: float = 60.0  # rest between sets, above HINGE_SPEC's ~30 s set gap
    walk_in: bool = True  # the lifter walks in before the first set
    walk_out: bool = True  # and walks out after the last
    cuts: bool = False  # title cards and reframing between sets, as in edited clips
    bar_lowered: bool = True  # the last rep's bar is set down and the lifter stands up without it (False: dropped from lockout)
    person_frac: float = 0.0  # lifter's height / frame height; 0 = random 0.5-0.8 (a small lifter: ~0.3)

    @property
    def gradable(self) -> bool:
        """A view within 45° of side-on still shows hip travel; a front view does not."""
        return abs(self.yaw_deg) <= 45.0


def station_settings(scenario: Scenario, settings: HingeSettings) -> HingeSettings:
    """The detector as a gym would set it up for this platform: where lifters drop the bar from
    lockout, reps from the floor count at lockout, not when the bar goes back down."""
    return settings if scenario.bar_lowered else replace(settings, floor_lowered_within_s=0.0)


def _fault_pool(lift: str) -> tuple[str, ...]:
    return tuple(f for f in FAULTS if lift == "deadlift" or f not in FLOOR_ONLY_FAULTS)


def scenario_matrix() -> list[Scenario]:
    """Scenarios covering every case the detector must handle (tests and `station bench accuracy`)."""
    rdl = Scenario("good_rdl", lift="rdl")
    dl = Scenario("good_deadlift", lift="deadlift")
    out = [rdl, dl]
    out += [replace(rdl, name=f"rdl_{f}", faults=(f,)) for f in _fault_pool("rdl")]
    out += [replace(dl, name=f"deadlift_{f}", faults=(f,)) for f in _fault_pool("deadlift")]
    mixed_rdl = ("good", "good") + _fault_pool("rdl")
    mixed_dl = ("good", "good") + _fault_pool("deadlift")
    out += [
        replace(rdl, name="rdl_mixed", reps_per_set=(8,), faults=mixed_rdl),
        replace(dl, name="deadlift_mixed", reps_per_set=(8,), faults=mixed_dl),
        replace(dl, name="deadlift_locked_rounded", faults=("locked+rounded",)),
        replace(rdl, name="rdl_facing_left", facing=-1),
        replace(dl, name="deadlift_facing_left", facing=-1),
        replace(rdl, name="rdl_portrait", width_px=720, height_px=1280),
        replace(dl, name="deadlift_portrait_left", width_px=720, height_px=1280, facing=-1),
        replace(dl, name="deadlift_640x480", width_px=640, height_px=480),
        replace(rdl, name="rdl_oblique_30", yaw_deg=30.0, faults=mixed_rdl),
        replace(dl, name="deadlift_oblique_30_left", yaw_deg=30.0, facing=-1, faults=mixed_dl),
        replace(dl, name="deadlift_oblique_away_20", yaw_deg=-20.0),
        replace(rdl, name="rdl_front_view", yaw_deg=90.0),
        replace(dl, name="deadlift_front_view", yaw_deg=90.0, faults=mixed_dl),
        replace(dl, name="noise_clean", noise=0.0, fps_jitter=0.02),
        replace(dl, name="noise_typical", noise=0.5, faults=mixed_dl),
        replace(dl, name="bad_clip", noise=1.0, faults=mixed_dl, cuts=True, reps_per_set=(5, 5), rest_s=40.0),
        replace(dl, name="small_far_lifter", noise=0.7, person_frac=0.3, width_px=640, height_px=480),
        replace(rdl, name="rdl_bad_clip", noise=1.0),
        replace(rdl, name="fps_8", fps=8.0, fps_jitter=0.2),
        replace(dl, name="fps_15", fps=15.0, fps_jitter=0.15),
        replace(dl, name="fps_30", fps=30.0, fps_jitter=0.1, faults=mixed_dl),
        replace(rdl, name="fps_60", fps=60.0, fps_jitter=0.1),
        Scenario("distractor_standing", reps_per_set=(), distractor="standing", walk_in=False, walk_out=False),
        Scenario("distractor_walk_in_out", reps_per_set=(), distractor="walk_in_out"),
        Scenario("distractor_plate_pickup", reps_per_set=(), distractor="plate_pickup"),
        Scenario("distractor_second_person", reps_per_set=(), distractor="crossing", walk_in=False),
        replace(dl, name="deadlift_person_crossing", crossing=True),
        replace(rdl, name="rest_between_sets", reps_per_set=(4, 5), rest_s=50.0),
        replace(dl, name="deadlift_rest_walk_off", reps_per_set=(3, 3), rest_s=70.0),
        replace(dl, name="deadlift_bar_dropped", bar_lowered=False),
        replace(rdl, name="rdl_bar_dropped", bar_lowered=False, reps_per_set=(3, 4), rest_s=40.0),
    ]
    return out


def random_scenario(rng: np.random.Generator) -> Scenario:
    """A random but plausible recording: any lift, fault mix, view, frame, rate and noise."""
    lift = str(rng.choice(["rdl", "deadlift"]))
    pool = _fault_pool(lift)
    if rng.random() < 0.12:
        width, height = FRAME_SIZES[int(rng.integers(len(FRAME_SIZES)))]
        return Scenario(
            name="random_distractor",
            reps_per_set=(),
            distractor=str(rng.choice(DISTRACTORS)),
            facing=int(rng.choice([-1, 1])),
            width_px=width,
            height_px=height,
            fps=float(rng.uniform(8.0, 60.0)),
            noise=float(rng.uniform(0.0, 1.0)),
        )
    n_sets = 1 if rng.random() < 0.75 else 2
    reps = tuple(int(rng.integers(1, 9)) for _ in range(n_sets))
    good_share = float(rng.uniform(0.2, 0.8))
    faults: tuple[str, ...] = ("good",) * int(round(10 * good_share)) + pool
    width, height = FRAME_SIZES[int(rng.integers(len(FRAME_SIZES)))]
    yaw = 90.0 if rng.random() < 0.05 else float(rng.uniform(-15.0, 30.0)) * float(rng.random() < 0.4)
    return Scenario(
        name="random",
        lift=lift,
        reps_per_set=reps,
        faults=faults,
        facing=int(rng.choice([-1, 1])),
        yaw_deg=yaw,
        width_px=width,
        height_px=height,
        fps=float(rng.choice([8.0, 10.0, 15.0, 24.0, 30.0, 60.0]) if rng.random() < 0.6 else rng.uniform(8.0, 60.0)),
        fps_jitter=float(rng.uniform(0.0, 0.25)),
        noise=float(rng.beta(1.5, 2.5)),
        crossing=bool(rng.random() < 0.1),
        rest_s=float(rng.uniform(35.0, 90.0)),
        walk_in=bool(rng.random() < 0.8),
        walk_out=bool(rng.random() < 0.8),
        cuts=bool(rng.random() < 0.1),
        bar_lowered=bool(rng.random() < 0.7),
    )
