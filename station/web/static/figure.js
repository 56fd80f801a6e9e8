/* Stick figure of the lifter on a <canvas>, drawn from MoveNet keypoints [y, x, score].
   Poses arrive at most a few times a second, so the figure glides between the last two. */
"use strict";

// Bones in MoveNet order; the side tells the colour (near and far limbs look different side-on).
const BONES = [
  [0, 1, "c"], [0, 2, "c"], [1, 3, "c"], [2, 4, "c"],
  [5, 6, "c"], [11, 12, "c"], [5, 11, "l"], [6, 12, "r"],
  [5, 7, "l"], [7, 9, "l"], [6, 8, "r"], [8, 10, "r"],
  [11, 13, "l"], [13, 15, "l"], [12, 14, "r"], [14, 16, "r"],
];
const COLOURS = { l: "#4fc3f7", r: "#ffb74d", c: "#e0e0e0" };

class StickFigure {
  constructor(canvas, glideMs) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.glideMs = glideMs;
    this.from = null;
    this.to = null;
    this.startedAt = 0;
    this.aspect = 4 / 3;
    this.pending = false;
    window.addEventListener("resize", () => this.request());
  }

  /* A new pose ({keypoints, width, height, min_score}) or null when nothing is known. */
  setPose(pose) {
    if (pose && pose.width && pose.height) {
      const aspect = pose.width / pose.height;
      if (Math.abs(aspect - this.aspect) > 0.01) {
        this.aspect = aspect;
        this.canvas.style.aspectRatio = `${pose.width} / ${pose.height}`;
      }
    }
    this.from = this.to ? this.current(performance.now()) : null;
    this.to = pose;
    this.startedAt = performance.now();
    this.request();
  }

  request() {
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame((now) => this.draw(now));
    }
  }

  /* The keypoints shown at time `now`: a linear glide from the previous pose to the newest. */
  current(now) {
    const to = this.to;
    if (!to) return null;
    const alpha = Math.min(1, (now - this.startedAt) / this.glideMs);
    if (!this.from || alpha >= 1) return to;
    const points = to.keypoints.map((p, i) => {
      const q = this.from.keypoints[i];
      return [q[0] + (p[0] - q[0]) * alpha, q[1] + (p[1] - q[1]) * alpha, p[2]];
    });
    return { ...to, keypoints: points };
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
    const pose = this.current(now);
    const seen = pose ? pose.keypoints.map((p) => p[2] >= pose.min_score) : [];
    if (!pose || seen.filter(Boolean).length < 5) {
      this.caption("No one in view", w, h, scale);
    } else {
      this.skeleton(pose.keypoints, seen, w, h, scale);
    }
    if (pose && pose !== this.to) this.request();
    else if (this.from && now - this.startedAt < this.glideMs) this.request();
  }

  skeleton(points, seen, w, h, scale) {
    const ctx = this.ctx;
    const xy = (p) => [p[1] * w, p[0] * h];
    ctx.lineCap = "round";
    ctx.lineWidth = Math.max(3, 0.012 * Math.min(w, h)) * Math.min(scale, 2);
    for (const [a, b, side] of BONES) {
      if (!seen[a] || !seen[b]) continue;
      const [ax, ay] = xy(points[a]);
      const [bx, by] = xy(points[b]);
      ctx.strokeStyle = COLOURS[side];
      ctx.beginPath();
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      ctx.stroke();
    }
    ctx.fillStyle = "#ffffff";
    const radius = ctx.lineWidth * 0.9;
    points.forEach((p, i) => {
      if (!seen[i]) return;
      const [x, y] = xy(p);
      ctx.beginPath();
      ctx.arc(x, y, i === 0 ? radius * 2.2 : radius, 0, 2 * Math.PI);
      ctx.fill();
    });
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
