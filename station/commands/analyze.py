"""`station analyze FILE.npz [--json]`: run the detector over a keypoint recording."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

KEY_ABBREV = {"unlock_knees": "knees", "hips_back_chest_down": "hips+chest", "knees_after_hips": "wall"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.npz", help="keypoint recording (HINGE_SPEC interchange format)")
    parser.add_argument("--json", action="store_true", help="print exactly the result JSON of HINGE_SPEC")


def run(args: argparse.Namespace) -> int:
    from station.config import load_config
    from station.hinge import analyze
    from station.recording import load

    recording = load(args.file)
    result = analyze(recording, load_config().hinge)
    print(json.dumps(result) if args.json else format_table(result))
    return 0


def format_table(result: dict[str, Any]) -> str:
    """A readable summary: one line per rep with its three keys, then the sets."""
    lines = [
        f"{result['frames']} frames, {result['duration_s']:.1f} s, detector: {result['implementation']}",
        "",
        f"{'rep':>3} {'set':>3} {'start':>7} {'bottom':>7} {'lockout':>7} {'down':>5} {'up':>5}  "
        + "  ".join(f"{name:<22}" for name in KEY_ABBREV.values()),
    ]
    for rep in result["reps"]:
        cells = [_key_cell(rep["keys"][key]) for key in KEY_ABBREV]
        lines.append(
            f"{rep['n']:>3} {rep['set']:>3} {rep['t_start']:>7.2f} {rep['t_bottom']:>7.2f} {rep['t_lockout']:>7.2f} "
            f"{rep['descent_s']:>5.2f} {rep['ascent_s']:>5.2f}  " + "  ".join(f"{c:<22}" for c in cells)
        )
    if not result["reps"]:
        lines.append("  (no reps)")
    lines.append("")
    for s in result["sets"]:
        end = "open" if s["t_end"] is None else f"{s['t_end']:.2f}"
        lines.append(f"set {s['n']}: {s['reps']} reps, {s['t_start']:.2f} s .. {end} s")
    if result.get("lockout_not_lowered") is not None:
        lines += [
            f"the lockout at {result['lockout_not_lowered']:.2f} s is not counted: a rep from the floor counts once its bar",
            "goes back down, and the recording ended first (or it was the stand-up after the last rep was set down);",
            "STATION_HINGE__FLOOR_LOWERED_WITHIN_S=0 counts floor reps at lockout",
        ]
    faults = sorted({g["cue"] for rep in result["reps"] for g in rep["keys"].values() if g["ok"] is False})
    if faults:
        lines += ["", "cues:"] + [f"  - {cue}" for cue in faults]
    return "\n".join(lines)


def _key_cell(grade: dict[str, Any]) -> str:
    mark = {True: "ok", False: "FAIL", None: "n/a"}[grade["ok"]]
    value = "" if grade["value"] is None else f" {grade['value']:g}"
    fault = f" ({grade['fault']})" if grade.get("fault") else ""
    return f"{mark}{value}{fault}"
