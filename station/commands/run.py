"""`station run`: camera (or --source) -> pose -> detector -> LEDs, page, history, until SIGTERM."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from station.errors import UsageError


def add_station_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `run` and `demo`: configuration file, port and single-key overrides."""
    parser.add_argument("--config", type=Path, help="TOML file instead of /etc/station/station.toml")
    parser.add_argument("--port", type=int, help="status-page port (0 = any free port); default [web] port")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one configuration key, e.g. --set web.max_streams=4 (repeatable)",
    )


def station_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The flag layer of the configuration: --set pairs, then the dedicated flags."""
    from station.config import parse_value  # the same value syntax as STATION_* variables

    flags: dict[str, Any] = {}
    for pair in args.overrides:
        dotted, eq, raw = pair.partition("=")
        section, dot, key = dotted.strip().partition(".")
        if not (eq and dot and section and key):
            raise UsageError(f"--set {pair!r}: write SECTION.KEY=VALUE, e.g. --set web.port=8081")
        flags[f"{section}.{key}"] = parse_value(raw.strip())
    if args.port is not None:
        flags["web.port"] = args.port
    if getattr(args, "model", None) is not None:
        flags["pose.model"] = str(args.model)
    return flags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        metavar="VIDEO|RECORDING|FOLDER",
        help="a video file, a keypoint recording (.npz) or a folder of images instead of the camera",
    )
    parser.add_argument("--model", type=Path, help="MoveNet .tflite file (default [pose] model or STATION_MODEL)")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="play a --source file this many times faster than real time (default 1)"
    )
    add_station_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from station.appliance import Appliance, usable_state_dir
    from station.hinge import IMPLEMENTATION, PhaseDetector
    from station.hw.sources import open_source
    from station.pipeline import Paced
    from station.web.auth import read_admin_secret
    from station.web.runtime_config import load_with_overrides

    if args.speed <= 0:
        raise UsageError("--speed must be positive: e.g. --speed 4")
    if args.source is None and args.speed != 1.0:
        raise UsageError("--speed applies to a --source file; the camera runs in real time")
    config = load_with_overrides(args.config, station_flags(args))  # settings saved from the page count too
    state_dir = usable_state_dir(config, allow_temp=False)
    admin = read_admin_secret(Path(config.web.admin_secret_file))
    print(f"station: {admin.note}", file=sys.stderr, flush=True)
    pose_model = None
    health = {"camera": "Pi camera" if args.source is None else f"file {Path(args.source).name}", "detector": IMPLEMENTATION}
    if args.source is not None and args.source.lower().endswith(".npz"):
        health["model"] = "not used (keypoint recording)"
        source = open_source(args.source, config)
    else:
        from station.hw.pose import load_pose_model

        pose_model = load_pose_model(config.pose)
        health["model"] = f"{Path(config.pose.model).name} ({pose_model.runtime})"
        net = pose_model.net
        source = open_source(args.source, config, max(net.input_width_px, net.input_height_px))
    appliance = Appliance(
        config,
        source if args.source is None else Paced(source, speed=args.speed),  # a file plays like a camera
        lambda width_px, height_px: PhaseDetector(width_px, height_px, config.hinge),
        state_dir=state_dir,
        pose_model=pose_model,
        health=health,
        admin=admin,
    )
    return appliance.run()
