"""`station replay VIDEO`: the full pose pipeline and detector over a video file, frame by frame.

Prints what `station analyze` prints on the recorded keypoints (`--json`: the result JSON of HINGE_SPEC);
`--record` saves those keypoints, `--annotate` writes a review copy of the video.
Unlike the live pipeline, replay processes every frame: nothing is dropped. A video or image
folder is decoded a couple of frames ahead on its own thread (`ReadAhead`), so decoding overlaps inference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", metavar="VIDEO", help="a video file (or a folder of images, or a .npz recording)")
    parser.add_argument("--json", action="store_true", help="print the result JSON only")
    parser.add_argument("--record", metavar="OUT.npz", type=Path, help="save the keypoints as a recording")
    parser.add_argument("--annotate", metavar="OUT.mp4", type=Path, help="write the video with skeleton, phase, reps and grades")
    parser.add_argument("--model", metavar="PATH", help="MoveNet model file (default: [pose] model / STATION_MODEL)")
    parser.add_argument("--threads", type=int, metavar="N", help="inference threads (default: [pose] threads)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


class Progress:
    """A one-line progress bar on a terminal; silent when stderr is not one."""

    def __init__(self, total: int, stream: TextIO, enabled: bool) -> None:
        self.total, self.stream = total, stream
        self.enabled = enabled and stream.isatty()
        self.done = 0
        self._start_s = time.monotonic()
        self._shown_s = 0.0

    def step(self) -> None:
        self.done += 1
        now_s = time.monotonic()
        if self.enabled and now_s - self._shown_s >= 0.1:
            self._shown_s = now_s
            self._show(now_s)

    def _show(self, now_s: float) -> None:
        fps = self.done / max(now_s - self._start_s, 1e-9)
        if self.total > 0:
            filled = min(30, 30 * self.done // self.total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done} frames"
        self.stream.write(f"\rreplay {bar}  {fps:.0f} fps ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._show(time.monotonic())
            self.stream.write("\n")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from station.commands.analyze import format_table
    from station.config import load_config
    from station.errors import SourceError
    from station.hw.readahead import ReadAhead
    from station.hw.sources import RecordingSource, open_source
    from station.recording import Recording, save
    from station.types import Frame, RepCompleted

    flags: dict[str, Any] = {}
    if args.model:
        flags["pose.model"] = args.model
    if args.threads is not None:
        flags["pose.threads"] = args.threads
    config = load_config(flags=flags)
    opened = open_source(args.video, config)
    # Keypoint recordings need no decoding, so nothing to read ahead.
    source = opened if isinstance(opened, RecordingSource) else ReadAhead(opened, depth=2)
    try:
        from station.hinge import PhaseDetector, analyze

        pose_model = None
        if not isinstance(opened, RecordingSource):
            from station.hw.pose import load_pose_model

            pose_model = load_pose_model(config.pose)
        detector = PhaseDetector(source.width_px, source.height_px, config.hinge)
        annotator = None
        if args.annotate:
            from station.annotate import Annotator

            annotator = Annotator(args.annotate, source.width_px, source.height_px, config.hinge.min_score)
        progress = Progress(int(getattr(source, "frame_count", 0)), sys.stderr, not args.no_progress)
        keypoints_seen: list[np.ndarray] = []
        times_s: list[float] = []
        try:
            for item in source:
                if isinstance(item, Frame):
                    assert pose_model is not None
                    keypoints = pose_model.detect(item.image_rgb)
                else:
                    keypoints = item.keypoints
                events = detector.update(keypoints, item.t_s)
                keypoints_seen.append(keypoints)
                times_s.append(item.t_s)
                if annotator is not None and isinstance(item, Frame):
                    for event in events:
                        if isinstance(event, RepCompleted):
                            annotator.add_rep(event.rep, item.t_s)
                    annotator.write(item.image_rgb, keypoints, item.t_s, detector.phase, detector.set_n, detector.reps_in_set)
                progress.step()
            if times_s:
                detector.finish(times_s[-1])
        finally:
            progress.close()
            if annotator is not None:
                annotator.close()
    finally:
        source.close()
    if not times_s:
        raise SourceError(f"{args.video}: no frames could be decoded; give a video with a picture in it")
    recording = Recording(np.stack(keypoints_seen).astype(np.float32), np.array(times_s), source.width_px, source.height_px)
    if args.record:
        save(args.record, recording)
    result = analyze(recording, config.hinge)
    print(json.dumps(result) if args.json else format_table(result))
    return 0
