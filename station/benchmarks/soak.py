"""`station bench soak` (not built yet)."""

from __future__ import annotations

import argparse

from station.errors import StationError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def run(args: argparse.Namespace) -> int:
    raise StationError("'station bench soak' is not built yet")
