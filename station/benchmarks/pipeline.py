"""`station bench pipeline`: per-stage milliseconds of the pose pipeline, overhead vs inference, memory.

Stages per frame: decode (the video; the ISP's job on a Pi), resize (crop-and-resize to the model
input), inference, detector, and everything else (mapping back, tracking, the loop). Medians
over the same frames with 1 and 2 inference threads, then a live run paced at the video's own
timestamps through `LatestFrame`, which shows frames being dropped, never queued.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

OVERHEAD_GOAL = 0.10  # non-inference work per frame as a share of inference
RSS_GOAL_MB = 250.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", metavar="VIDEO", help="a video to run on (default: a synthetic 640x360 clip)")
    parser.add_argument("--frames", type=int, default=300, help="frames per thread setting (default 300)")
    parser.add_argument("--model", metavar="PATH", help="MoveNet model file (default: [pose] model / STATION_MODEL)")
    parser.add_argument("--threads", default="1,2", help="thread counts to compare (default 1,2)")
    parser.add_argument("--live-s", type=float, default=5.0, help="seconds of paced live run (0 = skip)")
    parser.add_argument("--live-speed", type=float, default=1.0, help="play the live run this many times faster (e.g. 20: a camera faster than inference)")


def synthetic_clip(path: Path, frames: int) -> Path:
    """A 640x360, 30 fps clip with moving texture (no person: inference costs the same either way)."""
    import av
    import numpy as np

    codec = next(c for c in ("libx264", "h264", "mpeg4") if c in av.codecs_available)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (360, 1280, 3), dtype=np.uint8)
    with av.open(str(path), mode="w") as container:
        stream: Any = container.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(base[:, i * 2 % 640 : i * 2 % 640 + 640]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def measure(video: str, config: Any, threads: int, frames: int) -> tuple[dict[str, list[float]], str]:
    """Per-frame milliseconds of each stage over the first `frames` frames, and the runtime used."""
    from station.hinge import PhaseDetector
    from station.hw.pose import load_pose_model
    from station.hw.sources import open_source

    model = load_pose_model(dataclasses.replace(config.pose, threads=threads))
    source = open_source(video, config)
    detector = PhaseDetector(source.width_px, source.height_px, config.hinge)
    stages: dict[str, list[float]] = {k: [] for k in ("decode", "resize", "inference", "detector", "else", "total")}
    frames_iter = iter(source)
    try:
        for _ in range(frames + 5):
            t0 = time.perf_counter()
            item = next(frames_iter, None)
            if item is None:
                break
            t1 = time.perf_counter()
            keypoints = model.detect(item.image_rgb)  # type: ignore[union-attr]
            t2 = time.perf_counter()
            detector.update(keypoints, item.t_s)
            t3 = time.perf_counter()
            decode_ms, detect_ms, detector_ms = (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3
            for key, value in (
                ("decode", decode_ms), ("resize", model.last_resize_ms), ("inference", model.last_inference_ms),
                ("detector", detector_ms), ("else", detect_ms - model.last_resize_ms - model.last_inference_ms),
                ("total", (t3 - t0) * 1e3),
            ):  # fmt: skip
                stages[key].append(value)
    finally:
        source.close()
    return {k: v[5:] for k, v in stages.items()}, model.runtime  # the first frames warm caches and the interpreter


def live(video: str, config: Any, seconds: float, speed: float) -> str:
    """Paced like a camera: how many frames were processed, dropped, and how stale they were."""
    from station.hinge import PhaseDetector
    from station.hw.latest import LatestFrame
    from station.hw.pose import load_pose_model
    from station.hw.sources import open_source

    model = load_pose_model(config.pose)
    source = open_source(video, config)
    detector = PhaseDetector(source.width_px, source.height_px, config.hinge)
    latest = LatestFrame((dataclasses.replace(f, t_s=f.t_s / speed) for f in source), realtime=True)
    ages_ms: list[float] = []
    processed = 0
    start_s = time.monotonic()
    first: tuple[float, float] | None = None  # (wall, video time) when the first frame was picked
    try:
        while time.monotonic() - start_s < seconds and (item := latest.get(timeout_s=1.0)) is not None:
            now_s = time.monotonic()
            first = first or (now_s, item.t_s)
            # How late this frame is picked compared with when it was due (the first one sets the clock).
            ages_ms.append(((now_s - first[0]) - (item.t_s - first[1])) * 1e3)
            detector.update(model.detect(item.image_rgb), item.t_s)  # type: ignore[union-attr]
            processed += 1
    finally:
        latest.close()
        source.close()
    return (
        f"live ({speed:g}x the video's frame rate, {config.pose.threads} threads): {processed} processed, "
        f"{latest.dropped} dropped, lateness when picked median {statistics.median(ages_ms or [0]):.1f} ms, "
        f"max {max(ages_ms or [0]):.1f} ms"
    )


def run(args: argparse.Namespace) -> int:
    from station.config import load_config
    from station.hinge import IMPLEMENTATION

    config = load_config(flags={"pose.model": args.model} if args.model else {})
    thread_counts = [int(t) for t in args.threads.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        video = args.source or str(synthetic_clip(Path(tmp) / "synthetic.mp4", args.frames + 5))
        measured = {t: measure(video, config, t, args.frames) for t in thread_counts}
        results = {t: stages for t, (stages, _) in measured.items()}
        runtime = next(iter(measured.values()))[1]
        live_line = live(video, config, args.live_s, args.live_speed) if args.live_s > 0 else ""
    med = {t: {k: statistics.median(v) for k, v in r.items()} for t, r in results.items()}
    n = len(next(iter(results.values()))["total"])
    out = sys.stdout
    out.write(f"pose pipeline on {args.source or 'a synthetic 640x360 clip'}: {n} frames per setting, detector {IMPLEMENTATION}\n")
    out.write(f"model {Path(config.pose.model).name} via {runtime}\n")
    out.write(f"{'median ms/frame':<28}" + "".join(f"{f'{t} thread' + ('s' if t > 1 else ''):>12}" for t in thread_counts) + "\n")
    rows = [
        ("decode (video file)", lambda m: m["decode"]),
        ("resize (crop to input)", lambda m: m["resize"]),
        ("decode + resize", lambda m: m["decode"] + m["resize"]),
        ("inference", lambda m: m["inference"]),
        ("detector", lambda m: m["detector"]),
        ("everything else", lambda m: m["else"]),
        ("total (median frame)", lambda m: m["total"]),
    ]
    for label, pick in rows:
        out.write(f"{label:<28}" + "".join(f"{pick(med[t]):>12.3f}" for t in thread_counts) + "\n")
    for label, with_decode in (("overhead / inference", False), ("  same, counting decode", True)):
        shares = [(med[t]["resize"] + med[t]["detector"] + med[t]["else"] + (med[t]["decode"] if with_decode else 0)) / med[t]["inference"] for t in thread_counts]
        out.write(f"{label:<28}" + "".join(f"{s:>11.1%} " for s in shares) + f"  (goal <= {OVERHEAD_GOAL:.0%}{'' if with_decode else ', decode excluded: the ISP does it on a Pi'})\n")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write(f"peak resident memory {peak_mb:.0f} MB (goal <= {RSS_GOAL_MB:.0f} MB)\n")
    if live_line:
        out.write(live_line + "\n")
    return 0
