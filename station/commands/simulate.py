"""`station simulate OUT.npz`: write a simulated lifter's keypoint recording and print its ground truth."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", nargs="?", type=Path, help="recording to write (.npz, HINGE_SPEC interchange format)")
    parser.add_argument("--scenario", default="good_deadlift", help="scenario name (see --list), or 'random' (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: body, tempos, noise (default: %(default)s)")
    parser.add_argument("--list", action="store_true", help="list the scenario names and exit")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from station.errors import UsageError
    from station.recording import save
    from station.sim import random_scenario, scenario_matrix, simulate

    scenarios = {s.name: s for s in scenario_matrix()}
    if args.list:
        for s in scenarios.values():
            sets = "+".join(str(n) for n in s.reps_per_set) or "-"
            extra = s.distractor or ",".join(sorted(set(s.faults)))
            print(f"{s.name:28s} {s.lift:8s} reps {sets:5s} {s.width_px}x{s.height_px} {s.fps:g} fps  noise {s.noise:.1f}  yaw {s.yaw_deg:g}  {extra}")
        return 0
    if args.out is None:
        raise UsageError("name the recording to write, e.g. 'station simulate out.npz' (or use --list)")
    if args.out.suffix != ".npz":
        raise UsageError(f"{args.out}: the recording must be a .npz file, e.g. '{args.out.with_suffix('.npz')}'")
    if not args.out.parent.is_dir():
        raise UsageError(f"{args.out.parent}: no such folder; create it or write elsewhere")
    if args.scenario == "random":
        scenario = random_scenario(np.random.default_rng(args.seed))
    elif args.scenario in scenarios:
        scenario = scenarios[args.scenario]
    else:
        raise UsageError(f"unknown scenario {args.scenario!r}; 'station simulate --list' shows the names")
    recording, truth = simulate(scenario, args.seed)
    try:
        save(args.out, recording)
    except OSError as exc:
        raise UsageError(f"{args.out}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {args.out}: {len(recording.t)} frames, {recording.duration_s:.1f} s, {recording.width}x{recording.height}, "
          f"scenario {scenario.name} seed {args.seed}, facing {'right' if truth.facing > 0 else 'left'}, "
          f"gradable {'yes' if truth.gradable else 'no'}")
    for st in truth.sets:
        print(f"set {st.n}: {st.reps} reps, {st.t_start_s:.2f}-{st.t_end_s:.2f} s")
    for n, r in enumerate(truth.reps, start=1):
        faults = ", ".join(f"{k}={v}" for k, v in r.faults.items() if v) or "good"
        print(f"rep {n} (set {r.set_n}, {r.lift}): start {r.t_start_s:.2f} bottom {r.t_bottom_s:.2f} lockout {r.t_lockout_s:.2f}  {faults}")
    if not truth.reps:
        print("no reps (a correct detector counts none)")
    elif not scenario.bar_lowered:
        print("the lifter drops the bar from lockout: analyze with STATION_HINGE__FLOOR_LOWERED_WITHIN_S=0 to count floor reps at lockout")
    return 0
