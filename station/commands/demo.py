"""`station demo`: the whole station on the built-in simulated lifter (no camera, no model).

LEDs run on gpiozero's mock pins and are drawn on the page; the history goes to the state
directory (or a temporary one when that is not writable).
"""

from __future__ import annotations

import argparse

from station.commands.run import add_station_arguments, station_flags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_station_arguments(parser)
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second delivered (default 30, a Pi camera's rate)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulated lifter (default 1)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="time multiplier: 4 plays four seconds of lifting per second"
    )


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from gpiozero.pins.mock import MockFactory

    from station.appliance import Appliance, usable_state_dir
    from station.errors import UsageError
    from station.hinge import IMPLEMENTATION, PhaseDetector
    from station.pipeline import Paced
    from station.sim import live_lifter
    from station.web.auth import demo_admin_secret
    from station.web.runtime_config import load_with_overrides

    if args.fps <= 0 or args.speed <= 0:
        raise UsageError("--fps and --speed must be positive: e.g. --fps 30 --speed 4")
    config = load_with_overrides(args.config, station_flags(args))
    admin = demo_admin_secret(Path(config.web.admin_secret_file))
    print(f"station demo: {admin.note}", file=sys.stderr, flush=True)
    appliance = Appliance(
        config,
        Paced(live_lifter(args.seed, fps=args.fps, bar_lowered=config.hinge.floor_lowered_within_s > 0.0), speed=args.speed),
        lambda width_px, height_px: PhaseDetector(width_px, height_px, config.hinge),
        state_dir=usable_state_dir(config, allow_temp=True),
        health={"camera": "simulated lifter", "model": "not used (simulated keypoints)", "detector": IMPLEMENTATION},
        pin_factory=MockFactory(),
        name="station demo",
        admin=admin,
    )
    return appliance.run()
