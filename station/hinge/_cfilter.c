/* Stage 1 of the C kernel, the port of station/hinge/_filter.py: keypoints -> four tracked
 * sagittal joints (near-side labels, swaps, a speed-aware gate, reacquisition, One Euro). */
#include "_ckernel.h"

/* MoveNet (left, right) indices of the joints the detector tracks, in track order. */
static const int LABELS[N_JOINTS][2] = {{5, 6}, {11, 12}, {13, 14}, {15, 16}};
/* Labels closer than this (leg lengths) show the same joint (_filter.SAME_SIDE_L). */
#define SAME_SIDE_L 0.05

static inline double euro_alpha(Kernel *c, double cutoff_hz, double dt_s) {
    double r = TWO_PI * cutoff_hz * dt_s;
    return pdiv(c, r, r + 1.0);
}

static void track_start(Tracks *tr, int j, double x, double y, double t) {
    tr->x[j] = x;
    tr->y[j] = y;
    tr->vx[j] = tr->vy[j] = 0.0;
    tr->t_seen[j] = t;
    tr->tracked[j] = 1;
    tr->t_rej[j] = -1.0;
}

static void note_rejection(const Kernel *c, Tracks *tr, int j, double x, double y, double t, double scale_px) {
    int consistent = tr->t_rej[j] >= 0.0 && hypot_le(x - tr->rej_x[j], y - tr->rej_y[j], P(c, joint_gate_L) * scale_px);
    if (tr->lock_r > 0.0 && fabs(x - tr->lock_x) > tr->lock_r) consistent = 0; /* someone else */
    if (!consistent) {
        tr->t_rej[j] = t;
    } else if (t - tr->t_rej[j] >= P(c, reacquire_s)) {
        track_start(tr, j, x, y, t);
        tr->n_reinit += 1;
        return;
    }
    tr->rej_x[j] = x;
    tr->rej_y[j] = y;
}

/* _euro_update for every joint marked in `todo`, stage by stage across the joints: each joint's
 * arithmetic is the reference's, operation for operation (the joints are independent), but
 * side by side the four chains of divisions and square roots overlap in the CPU. */
static void euro_update(Kernel *c, Tracks *tr, const int *todo, const double *x, const double *y, double t, double scale_px) {
    double dt[N_JOINTS], speed_L_s[N_JOINTS];
    int go[N_JOINTS];
    for (int j = 0; j < N_JOINTS; j++) {
        dt[j] = t - tr->t_seen[j];
        go[j] = todo[j] && !(dt[j] <= 0.0);
    }
    for (int j = 0; j < N_JOINTS; j++) {
        if (!go[j]) continue;
        double ad = euro_alpha(c, P(c, euro_d_cutoff_hz), dt[j]);
        tr->vx[j] += ad * ((x[j] - tr->x[j]) / dt[j] - tr->vx[j]);
        tr->vy[j] += ad * ((y[j] - tr->y[j]) / dt[j] - tr->vy[j]);
    }
    for (int j = 0; j < N_JOINTS; j++) {
        if (go[j]) speed_L_s[j] = pdiv(c, py_hypot(tr->vx[j], tr->vy[j]), scale_px);
    }
    for (int j = 0; j < N_JOINTS; j++) {
        if (!go[j]) continue;
        double a = euro_alpha(c, P(c, euro_min_cutoff_hz) + P(c, euro_beta) * speed_L_s[j], dt[j]);
        tr->x[j] += a * (x[j] - tr->x[j]);
        tr->y[j] += a * (y[j] - tr->y[j]);
        tr->t_seen[j] = t;
    }
}

/* The reference's `n_dist + same < f_dist or (better_scored and n_dist <= f_dist + same)` with
 * n_dist, f_dist = math.hypot(...): decided on sqrt lengths (within a few ulps of math.hypot)
 * unless a side is too close to call, where the exact hypots decide, as in the reference. */
static int near_wins(double ndx, double ndy, double fdx, double fdy, double same, int better_scored) {
    double n = sqrt(ndx * ndx + ndy * ndy), f = sqrt(fdx * fdx + fdy * fdy);
    double margin = 1e-9 * (n + f + same);
    if (n < 1e150 && f < 1e150 && n > 1e-150 && f > 1e-150) {
        double lhs = n + same - f; /* < 0: the near label is clearly closer */
        if (lhs < -margin) return 1;
        if (lhs > margin) {
            if (!better_scored) return 0;
            double rhs = n - f - same; /* <= 0: near within `same` of the far one */
            if (rhs < -margin) return 1;
            if (rhs > margin) return 0;
        }
    }
    double n_dist = py_hypot(ndx, ndy), f_dist = py_hypot(fdx, fdy);
    return n_dist + same < f_dist || (better_scored && n_dist <= f_dist + same);
}

/* _plant_state: 1 an ankle label within plant_r of the planted feet, -1 ankles seen but none
 * there, 0 none seen. */
static int plant_state(const Tracks *tr, const double *v, double width_px, double min_score) {
    int state = 0;
    for (int i = 15; i <= 16; i++) {
        double x = v[3 * i + 1] * width_px;
        if (v[3 * i + 2] >= min_score && x == x) {
            if (fabs(x - tr->plant_x) <= tr->plant_r) return 1;
            state = -1;
        }
    }
    return state;
}

void hinge_fuse_and_filter(Kernel *c, const double *v, double t, int near_left, double scale_px) {
    Tracks *tr = &c->tr;
    const double width_px = c->width_px, height_px = c->height_px, min_score = P(c, min_score);
    double cand_x[N_JOINTS] = {0}, cand_y[N_JOINTS] = {0};
    int status[N_JOINTS], restart[N_JOINTS];
    if (near_left != tr->near_left) {
        tr->near_left = near_left;
        for (int j = 0; j < N_JOINTS; j++) tr->tracked[j] = 0;
    }
    int feet = tr->plant_r > 0.0 ? plant_state(tr, v, width_px, min_score) : 1;
    if (feet > 0) {
        tr->t_off = -1.0;
    } else if (feet < 0 && tr->t_off < 0.0) {
        tr->t_off = t;
    }
    tr->off_plant = feet < 0;
    /* Ankles seen, none at the planted feet: not the lifter, drop the frame; but not seen at the
     * plant for long: the lifter moved (or the plant was misread), follow them again. */
    if (tr->off_plant && t - tr->t_off < P(c, plant_hold_s)) {
        tr->frame_jump = 1;
        tr->n_reinit = 0;
        return;
    }
    int n_acc = 0, n_rej = 0;
    for (int j = 0; j < N_JOINTS; j++) {
        int ni = near_left ? LABELS[j][0] : LABELS[j][1];
        int fi = near_left ? LABELS[j][1] : LABELS[j][0];
        double nx = v[3 * ni + 1] * width_px, ny = v[3 * ni] * height_px, ns = v[3 * ni + 2];
        double fx = v[3 * fi + 1] * width_px, fy = v[3 * fi] * height_px, fs = v[3 * fi + 2];
        int n_ok = ns >= min_score && nx == nx && ny == ny;
        int f_ok = fs >= min_score && fx == fx && fy == fy;
        status[j] = 0;
        restart[j] = 0;
        if (!(n_ok || f_ok)) continue;
        if (!tr->tracked[j]) {
            cand_x[j] = n_ok ? nx : fx;
            cand_y[j] = n_ok ? ny : fy;
            status[j] = 1;
            n_acc += 1;
            continue;
        }
        double dt = t - tr->t_seen[j];
        double lead = dt < 0.2 ? dt : 0.2;
        double px = tr->x[j] + tr->vx[j] * lead;
        double py = tr->y[j] + tr->vy[j] * lead;
        double gate = (P(c, joint_gate_L) + P(c, max_speed_L_s) * dt) * scale_px;
        double base = P(c, joint_gate_L) * scale_px; /* the gate without the speed allowance */
        /* The label on track; if both are, the clearly closer one, else the better scored. Alone,
         * in a view turned from side-on, the far label counts only where it lies on the track, and
         * so too, whatever the scores, once the near side is settled (no turn round lately). */
        const double same = SAME_SIDE_L * scale_px;
        int n_in = n_ok && hypot_le(nx - px, ny - py, gate);
        int f_in = f_ok && hypot_le(fx - px, fy - py, gate);
        double f_dist = f_in && tr->oblique ? py_hypot(fx - px, fy - py) : 0.0;
        if (f_in && !n_ok && tr->oblique && f_dist > same) continue; /* only the other side's point */
        int other_limb = tr->oblique && tr->near_settled && f_dist > same; /* the other leg */
        if (n_in && (!f_in || other_limb || near_wins(nx - px, ny - py, fx - px, fy - py, same, ns >= fs))) {
            cand_x[j] = nx;
            cand_y[j] = ny;
            status[j] = hypot_le(nx - px, ny - py, base) ? 1 : 3;
            n_acc += 1;
            tr->t_far[j] = -1.0;
        } else if (f_in && (n_in || !tr->oblique || f_dist <= same)) {
            cand_x[j] = fx;
            cand_y[j] = fy;
            status[j] = hypot_le(fx - px, fy - py, base) ? 1 : 3;
            n_acc += 1;
            if (!n_ok) {
                tr->t_far[j] = -1.0;
            } else if (tr->t_far[j] < 0.0) {
                tr->t_far[j] = t;
            } else if (t - tr->t_far[j] >= P(c, reacquire_s)) {
                cand_x[j] = nx;
                cand_y[j] = ny;
                restart[j] = 1;
                status[j] = 1;
                tr->t_far[j] = -1.0;
            }
        } else {
            cand_x[j] = n_ok ? nx : fx;
            cand_y[j] = n_ok ? ny : fy;
            status[j] = 2;
            n_rej += 1;
        }
    }
    int n_far = 0;
    for (int j = 0; j < N_JOINTS; j++) n_far += status[j] == 3;
    if (n_rej || n_acc > n_far || (tr->plant_r > 0.0 && status[ANKLE] == 3)) {
        /* Joints beyond the base gate count only if the whole body moved with them, and not while
         * the feet are planted: the speed allowance is not for another body arriving. */
        for (int j = 0; j < N_JOINTS; j++) {
            if (status[j] == 3) {
                status[j] = 2;
                n_rej += 1;
                n_acc -= 1;
            }
        }
    }
    int frame_jump = n_rej >= 2 && n_rej >= n_acc;
    tr->frame_jump = frame_jump;
    tr->n_reinit = 0;
    int smooth[N_JOINTS] = {0};
    for (int j = 0; j < N_JOINTS; j++) {
        if ((status[j] == 1 || status[j] == 3) && !frame_jump) {
            tr->t_rej[j] = -1.0;
            if (restart[j] || !tr->tracked[j]) {
                track_start(tr, j, cand_x[j], cand_y[j], t);
            } else {
                smooth[j] = 1;
            }
        } else if (status[j] == 2) {
            note_rejection(c, tr, j, cand_x[j], cand_y[j], t, scale_px);
        }
    }
    euro_update(c, tr, smooth, cand_x, cand_y, t, scale_px);
}
