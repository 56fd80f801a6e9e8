"""`station replay --annotate`: a copy of the video with skeleton, phase, rep count and key grades.

What a coach reviews a set with. Drawn with Pillow (the `video` extra), encoded with PyAV at the
frames' real timestamps, so slow motion and variable frame rates stay true.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from station.errors import SourceError, UsageError
from station.types import KEY_NAMES, Keypoints, Phase, Rep

# MoveNet's skeleton: pairs of keypoint indices, drawn left side orange, right side blue.
EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
)  # fmt: skip
LEFT, RIGHT, CENTRE = (255, 150, 0), (0, 170, 255), (235, 235, 235)
GOOD, FAULT, UNKNOWN = (60, 220, 90), (255, 70, 60), (170, 170, 170)
KEY_LABELS = {"unlock_knees": "unlock knees", "hips_back_chest_down": "hips back + chest down", "knees_after_hips": "knees after hips"}
TIME_BASE = Fraction(1, 1000)  # millisecond timestamps keep the source's real frame times
BANNER_S = 1.5  # how long "REP n" stays on screen after a lockout


def _side_colour(a: int, b: int) -> tuple[int, int, int]:
    if a % 2 == 1 and b % 2 == 1:
        return LEFT
    if a % 2 == 0 and b % 2 == 0 and a and b:
        return RIGHT
    return CENTRE


def grade_lines(rep: Rep) -> list[tuple[str, tuple[int, int, int]]]:
    """One coloured line per key of a rep: mark, name, value or fault, and the cue when it failed."""
    lines = []
    for name in KEY_NAMES:
        grade = rep.keys.get(name)
        if grade is None or grade.ok is None:
            lines.append((f"?  {KEY_LABELS[name]}: can't grade", UNKNOWN))
            continue
        detail = grade.fault or (f"{grade.value:.2f}" if grade.value is not None else "")
        lines.append((f"{'OK' if grade.ok else 'X '} {KEY_LABELS[name]}: {detail}", GOOD if grade.ok else FAULT))
        if not grade.ok:
            lines.append((f"    {grade.cue}", FAULT))
    return lines


class Annotator:
    """Writes annotated frames to an mp4 file; `close()` finishes the file."""

    def __init__(self, path: Path, width_px: int, height_px: int, min_score: float = 0.3) -> None:
        try:
            import av
            from PIL import Image, ImageDraw, ImageFont
        except ImportError:
            raise UsageError("--annotate needs PyAV and Pillow: `pip install 'hinge-station[video]'`") from None
        self._image, self._draw_cls = Image, ImageDraw
        self.min_score = min_score
        self.width_px, self.height_px = width_px - width_px % 2, height_px - height_px % 2
        scale = max(self.width_px, self.height_px) / 640
        self._font = ImageFont.load_default(size=max(11, round(15 * scale)))
        self._big_font = ImageFont.load_default(size=max(20, round(34 * scale)))
        self._radius_px = max(2, round(3 * scale))
        self._line_px = max(2, round(3 * scale))
        codec = next(c for c in ("libx264", "h264", "mpeg4") if c in av.codecs_available)
        try:
            path.open("wb").close()  # PyAV opens lazily, at the first frame: fail here, before the work
            self._container = av.open(str(path), mode="w")
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceError(f"{path}: cannot write the annotated video ({exc}); check the folder exists and is writable") from None
        self._stream: Any = self._container.add_stream(codec, rate=30)
        self._stream.width, self._stream.height = self.width_px, self.height_px
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = TIME_BASE
        self._stream.codec_context.time_base = TIME_BASE
        if codec != "mpeg4":
            self._stream.options = {"crf": "23", "preset": "veryfast"}
        self._av = av
        self._t0_s: float | None = None
        self._last_pts = -1
        self._reps: list[Rep] = []
        self._rep_counted_at_s = float("-inf")

    def add_rep(self, rep: Rep, t_s: float) -> None:
        """A rep was counted at t_s: its grades show from then on, with a banner for BANNER_S."""
        self._reps.append(rep)
        self._rep_counted_at_s = t_s

    def write(self, image_rgb: npt.NDArray[np.uint8], keypoints: Keypoints, t_s: float, phase: Phase, set_n: int, reps_in_set: int) -> None:
        """Draw one frame's overlay and encode it at its own timestamp."""
        if self._t0_s is None:
            self._t0_s = t_s
        pts = max(self._last_pts + 1, round((t_s - self._t0_s) / TIME_BASE))
        self._last_pts = pts
        canvas = np.zeros((self.height_px, self.width_px, 3), dtype=np.uint8)  # a folder's images may differ in size
        h, w = min(self.height_px, image_rgb.shape[0]), min(self.width_px, image_rgb.shape[1])
        canvas[:h, :w] = image_rgb[:h, :w]
        picture = self._image.fromarray(canvas)
        draw = self._draw_cls.Draw(picture, "RGBA")
        self._skeleton(draw, keypoints)
        self._panel(draw, t_s, phase, set_n, reps_in_set)
        frame = self._av.VideoFrame.from_image(picture)
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._container.mux(self._stream.encode(frame))

    def _skeleton(self, draw: Any, keypoints: Keypoints) -> None:
        xs = keypoints[:, 1] * self.width_px
        ys = keypoints[:, 0] * self.height_px
        sure = keypoints[:, 2] >= self.min_score
        for a, b in EDGES:
            if sure[a] and sure[b]:
                draw.line([(xs[a], ys[a]), (xs[b], ys[b])], fill=_side_colour(a, b), width=self._line_px)
        r = self._radius_px
        for j in np.flatnonzero(sure):
            draw.ellipse([xs[j] - r, ys[j] - r, xs[j] + r, ys[j] + r], fill=(255, 255, 255), outline=(0, 0, 0))

    def _panel(self, draw: Any, t_s: float, phase: Phase, set_n: int, reps_in_set: int) -> None:
        pad = self._radius_px * 2
        header = f"set {set_n}  reps {reps_in_set}  {phase.value}  {t_s:.2f} s" if set_n else f"{phase.value}  {t_s:.2f} s"
        self._text_box(draw, (pad, pad), [(header, CENTRE)])
        if not self._reps:
            return
        rep = self._reps[-1]
        lines = [(f"rep {rep.n} (set {rep.set_n})", CENTRE), *grade_lines(rep)]
        line_h = int(self._font.getbbox("Ag")[3]) + pad // 2
        self._text_box(draw, (pad, self.height_px - pad - line_h * len(lines) - pad), lines)
        if t_s - self._rep_counted_at_s < BANNER_S:
            faults = sum(1 for g in rep.keys.values() if g.ok is False)
            colour = GOOD if faults == 0 else FAULT
            draw.text((self.width_px - pad, pad), f"REP {rep.n}", font=self._big_font, fill=colour, anchor="ra", stroke_width=2, stroke_fill=(0, 0, 0))

    def _text_box(self, draw: Any, origin: tuple[int, int], lines: list[tuple[str, tuple[int, int, int]]]) -> None:
        pad = self._radius_px * 2
        line_h = self._font.getbbox("Ag")[3] + pad // 2
        lines = [(self._fit(draw, text, self.width_px - origin[0] - pad), colour) for text, colour in lines]
        width = max(int(draw.textlength(text, font=self._font)) for text, _ in lines)
        x, y = origin
        draw.rectangle([x - pad // 2, y - pad // 2, x + width + pad // 2, y + line_h * len(lines)], fill=(0, 0, 0, 150))
        for i, (text, colour) in enumerate(lines):
            draw.text((x, y + i * line_h), text, font=self._font, fill=colour)

    def _fit(self, draw: Any, text: str, width_px: int) -> str:
        """The text, cut with an ellipsis where it would run off the frame."""
        if draw.textlength(text, font=self._font) <= width_px:
            return text
        while text and draw.textlength(text + "...", font=self._font) > width_px:
            text = text[:-1]
        return text + "..."

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        self._container.mux(self._stream.encode(None))
        self._container.close()
