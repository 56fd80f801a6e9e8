"""The `station` command: one subcommand per module in `station.commands`.

Each command module has ``add_arguments(parser)`` and ``run(args) -> int`` and keeps its
heavy imports inside ``run`` so that `station --help` stays fast on a Pi.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from station import __version__
from station.errors import StationError

COMMANDS: dict[str, str] = {
    "run": "run the station: camera (or --source) -> pose -> detector -> LEDs, page, history",
    "demo": "run the whole station on the built-in simulated lifter (no camera, no model)",
    "replay": "run the pose pipeline and detector over a video file",
    "analyze": "run the detector over a keypoint recording (.npz)",
    "simulate": "write a simulated lifter's keypoint recording (.npz)",
    "doctor": "check camera, model, runtime, GPIO, permissions, disk and configuration",
    "bench": "benchmarks: accuracy, detector speed, pose pipeline, soak",
    "config": "print the effective configuration as TOML",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="station", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"station {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"station.commands.{name}")
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"station.commands.{args.command}")
    try:
        return int(module.run(args))
    except StationError as exc:
        print(f"station {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
