/* Stick figure of the lifter on a <canvas>, drawn from MoveNet keypoints [y, x, score].
   Poses arrive a few times a second, so the figure glides between the last two; the view
   zooms to where the lifter has been over the last seconds, so a small lifter still fills it. */
"use strict";

// Bones in MoveNet order; the side picks the colour (near and far limbs look different side-on).
const BONES = [
  [5, 6, "c"], [11, 12, "c"], [5, 11, "l"], [6, 12, "r"],
  [5, 7, "l"], [7, 9, "l"], [6, 8, "r"], [8, 10, "r"],
  [11, 13, "l"], [13, 15, "l"], [12, 14, "r"], [14, 16, "r"],
];
const COLOURS = { l: "#4fc3f7", r: "#ffb74d", c: "#dfe3e8" };
const VIEW_MEMORY_MS = 4000; // the view covers the lifter's last 4 s: steady through a rep
const MARGIN = 0.18; // room around the lifter, as a fraction of the view
const MIN_POINTS = 5;
const FAINT_SCORE = 0.12; // below this a joint is not drawn at all; up to min_score it is drawn faint
const HEAD = [0, 1, 2, 3, 4];

class StickFigure {
  constructor(canvas, glideMs) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.glideMs = glideMs;
    this.from = null;
    this.to = null;
    this.startedAt = 0;
    this.boxes = []; // [time, x0, y0, x1, y1] in frame pixels
    this.pending = false;
    window.addEventListener("resize", () => this.request());
  }

  /* A new pose ({keypoints, width, height, min_score}) or null when nothing is known. */
  setPose(pose) {
    const now = performance.now();
    const next = pose ? this.prepare(pose, now) : null;
    this.from = this.to && next ? this.current(now) : null;
    this.to = next;
    this.startedAt = now;
    this.request();
  }

  /* Keypoints in frame pixels, which joints are trusted, and the view to show them in. */
  prepare(pose, now) {
    const points = pose.keypoints.map(([y, x, s]) => [x * pose.width, y * pose.height, s]);
    const seen = points.map((p) => p[2] >= pose.min_score);
    // Opacity per joint: trusted joints solid, doubtful ones (shins behind plates) faint.
    const alpha = points.map((p) => (p[2] < FAINT_SCORE ? 0 : Math.min(1, 0.2 + 0.8 * (p[2] / pose.min_score) ** 2)));
    const visible = points.filter((_, i) => seen[i]);
    if (visible.length >= MIN_POINTS) {
      const xs = visible.map((p) => p[0]);
      const ys = visible.map((p) => p[1]);
      this.boxes.push([now, Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]);
    }
    this.boxes = this.boxes.filter((b) => now - b[0] <= VIEW_MEMORY_MS);
    return { points, seen, alpha, enough: visible.length >= MIN_POINTS, view: this.view(pose) };
  }

  view(pose) {
    if (!this.boxes.length) return [0, 0, pose.width, pose.height];
    const x0 = Math.min(...this.boxes.map((b) => b[1]));
    const y0 = Math.min(...this.boxes.map((b) => b[2]));
    const x1 = Math.max(...this.boxes.map((b) => b[3]));
    const y1 = Math.max(...this.boxes.map((b) => b[4]));
    const pad = MARGIN * Math.max(x1 - x0, y1 - y0, 1);
    return [x0 - pad, y0 - pad, x1 + pad, y1 + pad];
  }

  request() {
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame((now) => this.draw(now));
    }
  }

  /* What is shown at time `now`: a linear glide from the previous pose and view to the newest. */
  current(now) {
    const to = this.to;
    const alpha = Math.min(1, (now - this.startedAt) / this.glideMs);
    if (!to || !this.from || alpha >= 1) return to;
    const mix = (a, b) => a + (b - a) * alpha;
    return {
      ...to,
      points: to.points.map((p, i) => [mix(this.from.points[i][0], p[0]), mix(this.from.points[i][1], p[1]), p[2]]),
      view: to.view.map((v, i) => mix(this.from.view[i], v)),
    };
  }

  draw(now) {
    this.pending = false;
    const { canvas, ctx } = this;
    const scale = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * scale));
    const h = Math.max(1, Math.round(canvas.clientHeight * scale));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.clearRect(0, 0, w, h);
    const shown = this.current(now);
    if (!shown || !shown.enough) {
      this.caption("No one in view", w, h, scale);
    } else {
      this.skeleton(shown, w, h);
    }
    if (shown && shown !== this.to) this.request(); // still gliding
  }

  skeleton({ points, seen, alpha, view }, w, h) {
    const ctx = this.ctx;
    const [vx0, vy0, vx1, vy1] = view;
    const k = Math.min(w / (vx1 - vx0), h / (vy1 - vy0));
    const ox = (w - k * (vx1 - vx0)) / 2 - k * vx0;
    const oy = (h - k * (vy1 - vy0)) / 2 - k * vy0;
    const xy = (p) => [ox + k * p[0], oy + k * p[1]];
    const feet = [15, 16].filter((i) => seen[i]).map((i) => xy(points[i])[1]);
    if (feet.length) {
      const floor = Math.max(...feet) + Math.max(4, 0.012 * h);
      ctx.strokeStyle = "#2f3642";
      ctx.lineWidth = Math.max(2, 0.006 * h);
      ctx.beginPath();
      ctx.moveTo(0, floor);
      ctx.lineTo(w, floor);
      ctx.stroke();
    }
    ctx.lineCap = "round";
    ctx.lineWidth = Math.max(3, 0.022 * Math.min(w, h));
    const line = (a, b, colour, opacity) => {
      if (opacity <= 0) return;
      ctx.globalAlpha = opacity;
      ctx.strokeStyle = colour;
      ctx.beginPath();
      ctx.moveTo(...a);
      ctx.lineTo(...b);
      ctx.stroke();
    };
    for (const [a, b, side] of BONES) {
      line(xy(points[a]), xy(points[b]), COLOURS[side], Math.min(alpha[a], alpha[b]));
    }
    const radius = ctx.lineWidth * 0.75;
    ctx.fillStyle = "#ffffff";
    points.forEach((p, i) => {
      if (i < 5 || alpha[i] <= 0) return;
      const [x, y] = xy(p);
      ctx.globalAlpha = alpha[i];
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, 2 * Math.PI);
      ctx.fill();
    });
    this.head(points, seen, xy, k);
    ctx.globalAlpha = 1;
  }

  /* One circle for the head (centred on the face points seen) and a neck to the shoulders. */
  head(points, seen, xy, k) {
    const face = HEAD.filter((i) => seen[i]);
    if (!face.length) return;
    const ctx = this.ctx;
    const cx = face.reduce((s, i) => s + points[i][0], 0) / face.length;
    const cy = face.reduce((s, i) => s + points[i][1], 0) / face.length;
    const shoulders = [5, 6].filter((i) => seen[i]);
    const hips = [11, 12].filter((i) => seen[i]);
    let r = 0; // without a torso the head is drawn at its smallest size
    if (shoulders.length && hips.length) {
      const sx = shoulders.reduce((s, i) => s + points[i][0], 0) / shoulders.length;
      const sy = shoulders.reduce((s, i) => s + points[i][1], 0) / shoulders.length;
      const hx = hips.reduce((s, i) => s + points[i][0], 0) / hips.length;
      const hy = hips.reduce((s, i) => s + points[i][1], 0) / hips.length;
      r = 0.2 * Math.hypot(sx - hx, sy - hy); // a head is about a fifth of the torso's length across
      ctx.globalAlpha = 1;
      ctx.strokeStyle = COLOURS.c;
      ctx.beginPath();
      ctx.moveTo(...xy([sx, sy]));
      ctx.lineTo(...xy([cx, cy]));
      ctx.stroke();
    }
    const [x, y] = xy([cx, cy]);
    ctx.globalAlpha = 1;
    ctx.fillStyle = "#12151b";
    ctx.strokeStyle = COLOURS.c;
    ctx.beginPath();
    ctx.arc(x, y, Math.max(r * k, ctx.lineWidth * 1.6), 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }

  caption(text, w, h, scale) {
    const ctx = this.ctx;
    ctx.fillStyle = "#7a828e";
    ctx.font = `${Math.round(16 * scale)}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, w / 2, h / 2);
  }
}

window.StickFigure = StickFigure;
