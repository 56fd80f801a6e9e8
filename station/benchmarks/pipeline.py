"""`station bench pipeline`: per-stage milliseconds of the pose pipeline, its end-to-end overhead, memory.

Stages per frame: decode (the video, on `ReadAhead`'s thread as `station replay` runs it; the
ISP's job on a Pi), resize (crop-and-resize to the model input), inference, detector, and
everything else (mapping back, tracking, the loop). Then the honest end-to-end figure: in
blocks that alternate, to share the machine's noise, the wall-clock time per frame of inference
alone on the very inputs the model got, and of the whole pipeline as replay runs it (decode
overlapped on its thread). Medians with 1 and 2 inference threads, then a live run paced at the
video's own timestamps through `LatestFrame`, which shows frames being dropped, never queued.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OVERHEAD_GOAL = 0.10  # the pipeline's wall time per frame beyond inference, as a share of inference
RSS_GOAL_MB = 250.0
BLOCK_FRAMES = 20  # frames per alternating block: short enough to share drifts in the machine's load
READ_AHEAD = 2  # frames decoded ahead, as `station replay` does


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


class TimedSource:
    """A source whose every frame's decode time is noted, on the thread that iterates it."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.width_px, self.height_px = source.width_px, source.height_px
        self.decode_ms: list[float] = []

    def __iter__(self) -> Iterator[Any]:
        frames = iter(self.source)
        while True:
            t0 = time.perf_counter()
            item = next(frames, None)
            if item is None:
                return
            self.decode_ms.append((time.perf_counter() - t0) * 1e3)
            yield item

    def close(self) -> None:
        self.source.close()


def measure(video: str, config: Any, model: Any, frames: int) -> dict[str, list[float]]:
    """Per-frame milliseconds of each stage over the first `frames` frames (decode on the reader thread)."""
    from station.hinge import PhaseDetector
    from station.hw.readahead import ReadAhead
    from station.hw.sources import open_source

    model.reset()
    timed = TimedSource(open_source(video, config))
    reader = ReadAhead(timed, depth=READ_AHEAD)
    detector = PhaseDetector(reader.width_px, reader.height_px, config.hinge)
    stages: dict[str, list[float]] = {k: [] for k in ("resize", "inference", "detector", "else")}
    try:
        for _, item in zip(range(frames + 5), reader):
            t1 = time.perf_counter()
            keypoints = model.detect(item.image_rgb)
            t2 = time.perf_counter()
            detector.update(keypoints, item.t_s)
            t3 = time.perf_counter()
            detect_ms = (t2 - t1) * 1e3
            stages["resize"].append(model.last_resize_ms)
            stages["inference"].append(model.last_inference_ms)
            stages["detector"].append((t3 - t2) * 1e3)
            stages["else"].append(detect_ms - model.last_resize_ms - model.last_inference_ms)
    finally:
        reader.close()
    stages["decode"] = timed.decode_ms[: len(stages["resize"])]
    return {k: v[5:] for k, v in stages.items()}  # the first frames warm caches and the interpreter


def end_to_end(video: str, config: Any, model: Any, frames: int) -> tuple[list[float], list[float]]:
    """Wall ms per frame of (inference alone, the whole pipeline as replay runs it), in alternating blocks.

    Each pipeline block is followed by an inference-only block on the exact inputs the model got in
    it. The first READ_AHEAD frames of every block are left out of both: the reader decoded them
    while the other block ran, so counting them would hide their decode.
    """
    from station.hinge import PhaseDetector
    from station.hw.readahead import ReadAhead
    from station.hw.sources import open_source

    model.reset()
    reader = ReadAhead(open_source(video, config), depth=READ_AHEAD)
    detector = PhaseDetector(reader.width_px, reader.height_px, config.hinge)
    net = model.net
    infer = net.infer
    inputs: list[Any] = []

    def noting_infer(picture: Any) -> Any:
        inputs.append(picture)  # the model's input, kept for the inference-only block
        return infer(picture)

    net.infer = noting_infer
    alone_ms: list[float] = []
    pipeline_ms: list[float] = []
    frames_iter = iter(reader)
    try:
        for _ in range(max(1, frames // BLOCK_FRAMES)):
            inputs.clear()
            block_ms: list[float] = []
            last_s = time.perf_counter()
            for item in frames_iter:  # replay's loop body: detect, then the detector
                keypoints = model.detect(item.image_rgb)  # type: ignore[union-attr]
                detector.update(keypoints, item.t_s)
                now_s = time.perf_counter()
                block_ms.append((now_s - last_s) * 1e3)
                last_s = now_s
                if len(block_ms) == BLOCK_FRAMES:
                    break
            if len(block_ms) <= READ_AHEAD:
                break  # the video ended
            pipeline_ms.extend(block_ms[READ_AHEAD:])
            for picture in inputs[READ_AHEAD : len(block_ms)]:
                t0 = time.perf_counter()
                infer(picture)
                alone_ms.append((time.perf_counter() - t0) * 1e3)
    finally:
        net.infer = infer
        reader.close()
    return alone_ms, pipeline_ms


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
    from station.hw.pose import load_pose_model

    config = load_config(flags={"pose.model": args.model} if args.model else {})
    thread_counts = [int(t) for t in args.threads.split(",")]
    results: dict[int, dict[str, list[float]]] = {}
    walls: dict[int, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        video = args.source or str(synthetic_clip(Path(tmp) / "synthetic.mp4", args.frames + 5))
        for t in thread_counts:
            model = load_pose_model(dataclasses.replace(config.pose, threads=t))
            runtime = model.runtime
            results[t] = measure(video, config, model, args.frames)
            walls[t] = end_to_end(video, config, model, args.frames)
            del model
        live_line = live(video, config, args.live_s, args.live_speed) if args.live_s > 0 else ""
    med = {t: {k: statistics.median(v) for k, v in r.items()} for t, r in results.items()}
    n = len(next(iter(results.values()))["inference"])
    out = sys.stdout
    cols = "".join(f"{f'{t} thread' + ('s' if t > 1 else ''):>12}" for t in thread_counts)
    out.write(f"pose pipeline on {args.source or 'a synthetic 640x360 clip'}: {n} frames per setting, detector {IMPLEMENTATION}\n")
    out.write(f"model {Path(config.pose.model).name} via {runtime}\n")
    out.write(f"{'median ms/frame, per stage':<36}{cols}\n")
    rows = [
        ("decode (reader thread)", lambda m: m["decode"]),
        ("resize (crop to input)", lambda m: m["resize"]),
        ("decode + resize", lambda m: m["decode"] + m["resize"]),
        ("inference", lambda m: m["inference"]),
        ("detector", lambda m: m["detector"]),
        ("everything else", lambda m: m["else"]),
    ]
    for label, pick in rows:
        out.write(f"{label:<36}" + "".join(f"{pick(med[t]):>12.3f}" for t in thread_counts) + "\n")
    for label, with_decode, note in (
        ("CPU cost / inference, all stages", True, "informative: decode runs on its own thread"),
        ("  same, without decode", False, "informative: the camera path, the ISP decodes"),
    ):
        shares = [(med[t]["resize"] + med[t]["detector"] + med[t]["else"] + (med[t]["decode"] if with_decode else 0)) / med[t]["inference"] for t in thread_counts]
        out.write(f"{label:<36}" + "".join(f"{s:>11.1%} " for s in shares) + f"  ({note})\n")
    n_wall = len(walls[thread_counts[0]][1])
    out.write(f"end to end, median wall ms/frame ({n_wall} frames, blocks of {BLOCK_FRAMES} alternating)\n")
    alone = {t: statistics.median(walls[t][0]) for t in thread_counts}
    whole = {t: statistics.median(walls[t][1]) for t in thread_counts}
    out.write(f"{'inference alone':<36}" + "".join(f"{alone[t]:>12.3f}" for t in thread_counts) + "\n")
    out.write(f"{'whole pipeline, as replay runs it':<36}" + "".join(f"{whole[t]:>12.3f}" for t in thread_counts) + "\n")
    overhead = {t: whole[t] / alone[t] - 1 for t in thread_counts}
    cores = os.cpu_count() or 1
    verdict = ", ".join(f"{t}: {'met' if overhead[t] <= OVERHEAD_GOAL else 'NOT met'}" for t in thread_counts)
    out.write(
        "pipeline overhead over inference (wall clock, decode overlapped)\n"
        f"{'':<36}" + "".join(f"{overhead[t]:>11.1%} " for t in thread_counts) + f"  (goal <= {OVERHEAD_GOAL:.0%}; {verdict})\n"
    )
    for t in thread_counts:
        if overhead[t] > OVERHEAD_GOAL and t + 1 > cores:
            out.write(f"  with {t} inference threads, the decode thread competes with them for this machine's {cores} cores\n")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.write(f"peak resident memory {peak_mb:.0f} MB (goal <= {RSS_GOAL_MB:.0f} MB)\n")
    if live_line:
        out.write(live_line + "\n")
    return 0
