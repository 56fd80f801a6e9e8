"""The simulated lifter: MoveNet-style keypoint recordings with known reps and faults (tests, demo, benchmarks)."""

from station.sim.core import simulate
from station.sim.live import live_lifter
from station.sim.scenario import DISTRACTORS, Scenario, random_scenario, scenario_matrix, station_settings
from station.sim.truth import FAULT_KEY, FAULTS, SimTruth, TruthRep, TruthSet

__all__ = [
    "DISTRACTORS",
    "FAULTS",
    "FAULT_KEY",
    "Scenario",
    "SimTruth",
    "TruthRep",
    "TruthSet",
    "live_lifter",
    "random_scenario",
    "scenario_matrix",
    "simulate",
    "station_settings",
]
