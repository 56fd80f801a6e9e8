"""`station config`: print the effective configuration."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML file instead of /etc/station/station.toml")
    parser.add_argument("--defaults", action="store_true", help="print the packaged defaults only")


def run(args: argparse.Namespace) -> int:
    from station.config import Config, dump_toml, load_config

    config = Config() if args.defaults else load_config(args.config)
    print(dump_toml(config), end="")
    return 0
