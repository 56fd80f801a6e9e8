"""`station bench NAME`: benchmarks (medians and ratios from one run; never part of CI)."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS: dict[str, str] = {
    "accuracy": "rep counts and key grades over freshly simulated sets",
    "detector": "per-frame cost of the C and Python detectors, batch throughput",
    "pipeline": "per-stage milliseconds of the pose pipeline, overhead vs inference, memory",
    "soak": "station demo at 30 fps for a long time: memory slope and dropped frames",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="NAME", required=True)
    for name, help_text in BENCHMARKS.items():
        module = importlib.import_module(f"station.benchmarks.{name}")
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"station.benchmarks.{args.benchmark}")
    return int(module.run(args))
