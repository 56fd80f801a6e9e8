/* The C kernel's per-frame core, the port of station/hinge/_reference.py's Core: side and
 * facing votes, the joint quantities, the phase machine, rep confirmation and set segmentation
 * (stage 1, the joint tracks, is in _cfilter.c). */
#include "_ckernel.h"

static const int LEFT_SCORES[4] = {5 * 3 + 2, 11 * 3 + 2, 13 * 3 + 2, 15 * 3 + 2};
static const int RIGHT_SCORES[4] = {6 * 3 + 2, 12 * 3 + 2, 14 * 3 + 2, 16 * 3 + 2};

void hinge_init(Kernel *c, double width_px, double height_px) {
    Tracks *tr = &c->tr;
    for (int j = 0; j < N_JOINTS; j++) {
        tr->x[j] = tr->y[j] = tr->vx[j] = tr->vy[j] = 0.0;
        tr->t_seen[j] = -1e300;
        tr->tracked[j] = 0;
        tr->rej_x[j] = tr->rej_y[j] = 0.0;
        tr->t_rej[j] = -1.0;
        tr->t_far[j] = -1.0;
    }
    tr->near_left = 1;
    tr->frame_jump = 0;
    tr->oblique = 0;
    tr->near_settled = 0;
    tr->n_reinit = 0;
    tr->lock_x = tr->lock_r = 0.0;
    tr->plant_x = tr->plant_r = 0.0;
    tr->off_plant = 0;
    tr->t_off = -1.0;
    c->width_px = width_px;
    c->height_px = height_px;
    c->t_prev = -1e300;
    c->side_l = c->side_r = 0.0;
    c->near_left = 1;
    c->facing_acc = 0.0;
    c->facing = 1;
    c->leg_px = c->torso_px = c->view_ratio = 0.0;
    c->t_front = -1e300;
    c->front_prev = 0;
    c->t_turned = -1e300;
    c->trunk_deg = c->knee_deg = c->travel_L = 0.0;
    c->shoulder_height_L = 1.5;
    c->ok = c->held = 0;
    c->hip_x = c->ankle_x = 0.0;
    c->feet_x = c->pelvis_x = 0.0;
    c->rest_x = c->rest_y = c->rest_feet_x = 0.0;
    c->rest_n = 0;
    c->feet_seen = 0;
    c->phase = PH_ABSENT;
    c->t_present = -1e300;
    c->t_upright = -1.0;
    c->top_base_deg = 0.0;
    c->t_onset = c->knee_onset_deg = c->ankle_x_onset = 0.0;
    c->onset_shoulder_L = 1.5;
    c->max_trunk_deg = c->t_max_trunk = 0.0;
    c->ref_trunk_deg = c->ref_knee_deg = c->t_progress = 0.0;
    c->t_bottom = -1.0;
    c->deep_trunk_deg = c->deep_knee_deg = c->t_deep = 0.0;
    c->low_shoulder_L = 1e300;
    c->pend = 0;
    c->pend_t_start = c->pend_t_bottom = c->pend_t_lockout = 0.0;
    c->pend_hip_x = c->pend_ankle_x = 0.0;
    c->pend_side_on = 0;
    c->pend_floor = 0;
    c->rep_n = c->rep_set_n = 0;
    c->rep_t_start = c->rep_t_bottom = c->rep_t_lockout = 0.0;
    c->set_active = c->set_n = c->reps_in_set = 0;
    c->set_t_start = c->set_t_end = 0.0;
    c->ended_set_n = c->ended_reps = 0;
    c->ended_t_start = c->ended_t_end = 0.0;
    c->err = ERR_NONE;
    c->side_decay = 1.0;
}

/* ------------------------------------------------------------------ votes and quantities */
static void vote_side(Kernel *c, const double *v, double dt) {
    double a = c->side_decay = decay(c, dt, P(c, side_window_s));
    double sl = 0.0, sr = 0.0;
    for (int k = 0; k < 4; k++) {
        double s = v[LEFT_SCORES[k]];
        if (s >= P(c, min_score)) sl += s;
    }
    for (int k = 0; k < 4; k++) {
        double s = v[RIGHT_SCORES[k]];
        if (s >= P(c, min_score)) sr += s;
    }
    c->side_l = c->side_l * a + sl;
    c->side_r = c->side_r * a + sr;
    if (c->near_left && c->side_r > P(c, side_switch_ratio) * c->side_l) {
        c->near_left = 0;
    } else if (!c->near_left && c->side_l > P(c, side_switch_ratio) * c->side_r) {
        c->near_left = 1;
    }
}

static void vote_facing(Kernel *c, const double *v, double dt, double knee_side) {
    double acc = c->facing_acc * decay(c, dt, P(c, facing_window_s));
    const double ms = P(c, min_score);
    double ear_x = 0.0, ear_n = 0.0;
    const int ears[2] = {L_EAR, R_EAR};
    for (int k = 0; k < 2; k++) {
        int e = ears[k];
        if (v[3 * e + 2] >= ms && v[3 * e + 1] == v[3 * e + 1]) {
            ear_x += v[3 * e + 1];
            ear_n += 1.0;
        }
    }
    double nose_x = v[3 * NOSE + 1];
    if (ear_n > 0.0 && v[3 * NOSE + 2] >= ms && nose_x == nose_x) {
        double ahead = pdiv(c, (nose_x - ear_x / ear_n) * c->width_px, 0.05 * scale_of(c));
        acc += py_max(-1.0, py_min(1.0, ahead));
    }
    if ((c->held & OK_TRUNK) && c->trunk_deg > 30.0) {
        acc += c->tr.x[SHOULDER] > c->tr.x[HIP] ? 1.0 : -1.0;
    }
    if (knee_side != 0.0) acc += knee_side;
    c->facing_acc = acc;
    if (acc > 0.0) {
        c->facing = 1;
    } else if (acc < 0.0) {
        c->facing = -1;
    }
}

/* The sides of a length measured in this frame: the torso (1 segment), the leg (2), or none. */
typedef struct {
    int n;
    double x[2], y[2];
} Sides;

/* Whether math.hypot(x, y) > 0, without computing it: +inf with an infinite side, NaN with a
 * NaN one, else positive unless both sides are 0. 1 positive, 0 zero, -1 NaN. */
static inline int hypot_sign(double x, double y) {
    if (isinf(x) || isinf(y)) return 1;
    if (isnan(x) || isnan(y)) return -1;
    return x != 0.0 || y != 0.0;
}

/* Whether the reference's length (0.0 when not measured; a hypot, or the sum of two) is > 0. */
static inline int length_positive(const Sides *s) {
    int any = 0;
    for (int i = 0; i < s->n; i++) {
        int sign = hypot_sign(s->x[i], s->y[i]);
        if (sign < 0) return 0; /* NaN, and NaN + anything */
        any |= sign;
    }
    return any;
}

/* The length itself, as the reference sums it. */
static inline double length_of(const Sides *s) {
    return s->n == 1 ? py_hypot(s->x[0], s->y[0]) : py_hypot(s->x[0], s->y[0]) + py_hypot(s->x[1], s->y[1]);
}

/* Leg and torso lengths (not measured now: n = 0): first measurement, then standing frames. The
 * reference's order and arithmetic; a length (each hypot is a long chain of dependent operations)
 * is only computed where the reference reads its value, not just its sign. */
static void calibrate(Kernel *c, const Sides *leg, const Sides *torso, double dt) {
    double a = 1.0 - decay(c, dt, P(c, leg_calib_s));
    int is_standing = standing(c);
    if (length_positive(leg)) {
        if (c->leg_px <= 0.0) {
            c->leg_px = length_of(leg);
        } else if (is_standing) {
            c->leg_px += a * (length_of(leg) - c->leg_px);
        }
    }
    if (length_positive(torso)) {
        if (c->torso_px <= 0.0) {
            c->torso_px = length_of(torso);
        } else if (is_standing) {
            c->torso_px += a * (length_of(torso) - c->torso_px);
        }
    }
}

static void update_view(Kernel *c, const double *v) {
    if (c->torso_px <= 0.0) return;
    const double ms = P(c, min_score);
    double spread = 0.0;
    const int pairs[2][2] = {{5, 6}, {11, 12}};
    for (int k = 0; k < 2; k++) {
        int li = pairs[k][0], ri = pairs[k][1];
        if (v[3 * li + 2] >= ms && v[3 * ri + 2] >= ms) {
            double d = fabs(v[3 * li + 1] - v[3 * ri + 1]) * c->width_px;
            if (d == d) spread += d;
        }
    }
    double a = 1.0 - c->side_decay; /* the same exp(-dt / side_window_s) as the side vote's */
    int front = spread / (2.0 * c->torso_px) > P(c, side_view_max);
    if (front) {
        c->t_front = c->t_prev; /* front-on: maybe turning round */
        if (c->front_prev) c->t_turned = c->t_prev;
    }
    c->front_prev = front;
    c->view_ratio += a * (spread / (2.0 * c->torso_px) - c->view_ratio);
}

/* Where the body stands, from both labels at once (ankles, then hips). */
static void update_feet(Kernel *c, const double *v, double dt) {
    double a = 1.0 - decay(c, dt, P(c, feet_smooth_s));
    const int pairs[2][2] = {{15, 16}, {11, 12}};
    for (int k = 0; k < 2; k++) {
        double x = 0.0, n = 0.0;
        for (int m = 0; m < 2; m++) {
            int i = pairs[k][m];
            double xi = v[3 * i + 1];
            if (v[3 * i + 2] >= P(c, min_score) && xi == xi) {
                x += xi * c->width_px;
                n += 1.0;
            }
        }
        if (n == 0.0) continue;
        if (c->tr.lock_r > 0.0 && fabs(x / n - c->pend_ankle_x) > c->tr.lock_r) continue; /* another body */
        double *level = k == 1 ? &c->pelvis_x : &c->feet_x;
        *level = !c->feet_seen ? x / n : *level + a * (x / n - *level);
    }
    c->feet_seen = 1;
}

/* The ankle for the knee angle and the hips' travel (px): at the bar (top through ascent) the
 * mean of its track since it settled there (a moving mean over ankle_rest_s once longer), as the
 * feet stay put; the track itself elsewhere. A step starts the mean again: the feet moving
 * stance_change_L, or the track lying walk_L from the mean. */
static void planted_ankle(Kernel *c, double t, double dt, double *ax, double *ay) {
    const Tracks *tr = &c->tr;
    *ax = tr->x[ANKLE];
    *ay = tr->y[ANKLE];
    if (c->phase == PH_ABSENT || c->leg_px <= 0.0) {
        c->rest_n = 0;
        return;
    }
    if (tr->tracked[ANKLE] && tr->t_seen[ANKLE] == t) {
        int stepped = fabs(c->feet_x - c->rest_feet_x) > P(c, stance_change_L) * c->leg_px;
        if (c->rest_n == 0 || stepped || py_hypot(*ax - c->rest_x, *ay - c->rest_y) > P(c, walk_L) * c->leg_px) {
            c->rest_x = *ax;
            c->rest_y = *ay;
            c->rest_n = 1;
            c->rest_feet_x = c->feet_x;
        } else {
            c->rest_n += 1;
            double a = py_max(1.0 / (double)c->rest_n, 1.0 - decay(c, dt, P(c, ankle_rest_s)));
            c->rest_x += a * (*ax - c->rest_x);
            c->rest_y += a * (*ay - c->rest_y);
        }
    }
    if (c->rest_n) {
        *ax = c->rest_x;
        *ay = c->rest_y;
    }
}

static void quantities(Kernel *c, const double *v, double t, double dt) {
    const Tracks *tr = &c->tr;
    const double hold = P(c, hold_s);
    int sh_fresh = tr->tracked[SHOULDER] && t - tr->t_seen[SHOULDER] <= hold;
    int hip_fresh = tr->tracked[HIP] && t - tr->t_seen[HIP] <= hold;
    int knee_fresh = tr->tracked[KNEE] && t - tr->t_seen[KNEE] <= hold;
    int ankle_fresh = tr->tracked[ANKLE] && t - tr->t_seen[ANKLE] <= P(c, hold_ankle_s);
    int sh_now = tr->t_seen[SHOULDER] == t, hip_now = tr->t_seen[HIP] == t, knee_now = tr->t_seen[KNEE] == t;
    double sx = tr->x[SHOULDER], sy = tr->y[SHOULDER], hx = tr->x[HIP], hy = tr->y[HIP];
    double kx = tr->x[KNEE], ky = tr->y[KNEE], ax, ay;
    planted_ankle(c, t, dt, &ax, &ay);
    int ok = 0, held = 0;
    c->hip_x = hx;
    c->ankle_x = ax;
    Sides torso = {0, {0.0, 0.0}, {0.0, 0.0}}, leg = {0, {0.0, 0.0}, {0.0, 0.0}};
    if (sh_fresh && hip_fresh) {
        held |= OK_TRUNK;
        ok |= (sh_now && hip_now) ? OK_TRUNK : 0;
        c->t_present = t;
        double rise = hy - sy;
        double horiz = fabs(sx - hx);
        torso = (Sides){1, {horiz, 0.0}, {rise, 0.0}}; /* torso_px = math.hypot(horiz, rise) */
        double trunk = atan2(horiz, rise) * DEG;
        double oblique = pdiv(c, c->view_ratio - P(c, oblique_view_ratio), P(c, oblique_view_ratio));
        if (c->torso_px > 0.0 && oblique > 0.0) {
            double drop = acos(py_max(-1.0, py_min(1.0, rise / c->torso_px))) * DEG;
            if (drop > trunk) {
                double w = py_min(py_max((drop - 20.0) / 20.0, 0.0), 1.0) * py_min(oblique, 1.0);
                trunk += w * (drop - trunk);
            }
        }
        c->trunk_deg = trunk;
    }
    double knee_side = 0.0;
    if (hip_fresh && knee_fresh && ankle_fresh) {
        held |= OK_KNEE;
        ok |= (hip_now && knee_now) ? OK_KNEE : 0;
        double ux = hx - kx, uy = hy - ky, wx = ax - kx, wy = ay - ky;
        double bend = 180.0 - atan2(fabs(ux * wy - uy * wx), ux * wx + uy * wy) * DEG;
        double side = (ax - hx) * (ky - hy) - (ay - hy) * (kx - hx);
        c->knee_deg = side * (double)c->facing <= 0.0 ? bend : -bend;
        if (bend > 20.0) knee_side = side < 0.0 ? 1.0 : -1.0;
        leg = (Sides){2, {ux, wx}, {uy, wy}}; /* leg_px = math.hypot(ux, uy) + math.hypot(wx, wy) */
    }
    calibrate(c, &leg, &torso, dt);
    vote_facing(c, v, dt, knee_side);
    if (hip_fresh && ankle_fresh && c->leg_px > 0.0) {
        held |= OK_TRAVEL;
        ok |= hip_now ? OK_TRAVEL : 0;
        c->travel_L = (double)c->facing * (ax - hx) / c->leg_px;
        if (sh_fresh) c->shoulder_height_L = (ay - sy) / c->leg_px; /* image y grows downwards */
    }
    update_view(c, v);
    if (c->view_ratio <= P(c, side_view_max)) {
        ok |= OK_SIDE;
        held |= OK_SIDE;
    }
    c->ok = ok;
    c->held = held;
}

/* ------------------------------------------------------------------ phases, reps, sets */

static inline int set_phase(Kernel *c, int phase) {
    if (phase == c->phase) return 0;
    c->phase = phase;
    return EV_PHASE;
}

static void mark_onset(Kernel *c, double t) {
    c->t_onset = t;
    c->knee_onset_deg = c->knee_deg;
    c->ankle_x_onset = c->feet_x;
    c->onset_shoulder_L = c->shoulder_height_L;
}

static void at_top(Kernel *c, double t) {
    c->top_base_deg = c->trunk_deg;
    mark_onset(c, t);
}

static int end_set(Kernel *c) {
    c->set_active = 0;
    c->ended_set_n = c->set_n;
    c->ended_reps = c->reps_in_set;
    c->ended_t_start = c->set_t_start;
    c->ended_t_end = c->set_t_end;
    c->reps_in_set = 0;
    return EV_SET_ENDED;
}

static inline int opens_set(const Kernel *c) {
    return !c->set_active || c->pend_t_start - c->set_t_end > P(c, set_rest_s);
}

static int confirm(Kernel *c) {
    int ev = 0;
    c->pend = 0;
    if (c->set_active && opens_set(c)) ev |= end_set(c);
    if (!c->set_active) {
        c->set_active = 1;
        c->set_n += 1;
        c->reps_in_set = 0;
        c->set_t_start = c->pend_t_start;
        ev |= EV_SET_STARTED;
    }
    c->reps_in_set += 1;
    c->set_t_end = c->pend_t_lockout;
    c->rep_n += 1;
    c->rep_set_n = c->set_n;
    c->rep_t_start = c->pend_t_start;
    c->rep_t_bottom = c->pend_t_bottom;
    c->rep_t_lockout = c->pend_t_lockout;
    return ev | EV_REP;
}

static void lockout(Kernel *c, double t) {
    c->pend_t_start = c->t_onset;
    c->pend_t_bottom = c->t_bottom;
    c->pend_t_lockout = t;
    c->pend_hip_x = c->pelvis_x;
    c->pend_ankle_x = c->feet_x;
    c->pend = fabs(c->feet_x - c->ankle_x_onset) <= P(c, walk_L) * scale_of(c);
    c->pend_side_on = t - c->t_front > P(c, turn_settle_s);
    c->pend_floor = c->low_shoulder_L < P(c, floor_shoulder_L);
}

/* _follow_level: a resting level that follows values within margin slowly, drops below at once. */
static inline int follow_level(double value, double *level, double margin, double a) {
    if (value < *level - margin) {
        *level = value;
        return 1;
    }
    if (value <= *level + margin) {
        *level = *level + a * (value - *level);
        return 1;
    }
    return 0;
}

static int begin_descent(Kernel *c, double t) {
    c->max_trunk_deg = c->ref_trunk_deg = c->deep_trunk_deg = c->trunk_deg;
    c->ref_knee_deg = c->deep_knee_deg = c->knee_deg;
    c->t_max_trunk = c->t_progress = c->t_deep = t;
    c->t_bottom = -1.0;
    c->low_shoulder_L = 1e300;
    return set_phase(c, PH_HINGE);
}

static int top(Kernel *c, double t, double dt) {
    int ev = 0;
    double trunk = c->trunk_deg;
    double a = 1.0 - decay(c, dt, P(c, top_base_s));
    if (follow_level(trunk, &c->top_base_deg, P(c, onset_margin_deg), a)) mark_onset(c, t);
    if (trunk > P(c, hinge_deg)) ev |= begin_descent(c, t);
    return ev;
}

static int descent(Kernel *c, double t, double trunk, double knee) {
    int ev = 0;
    if (trunk > c->max_trunk_deg) {
        c->max_trunk_deg = trunk;
        c->t_max_trunk = t;
    }
    int deeper = 0;
    if (trunk > c->ref_trunk_deg + DEPTH_STEP_DEG) {
        c->ref_trunk_deg = trunk;
        deeper = 1;
    }
    if ((c->held & OK_KNEE) && knee > c->ref_knee_deg + KNEE_STEP_DEG) {
        c->ref_knee_deg = knee;
        deeper = 1;
    }
    if (deeper) c->t_progress = t;
    if (trunk > c->deep_trunk_deg + BOTTOM_STEP * DEPTH_STEP_DEG) {
        c->deep_trunk_deg = trunk;
        c->t_deep = t;
    }
    if ((c->held & OK_KNEE) && knee > c->deep_knee_deg + BOTTOM_STEP * KNEE_STEP_DEG) {
        c->deep_knee_deg = knee;
        c->t_deep = t;
    }
    int real = c->max_trunk_deg >= P(c, bottom_min_deg);
    if (real && trunk < c->max_trunk_deg - P(c, ascent_drop_deg)) {
        if (c->t_bottom < 0.0) c->t_bottom = c->t_deep;
        if (c->t_bottom - c->t_onset < P(c, min_descent_s)) {
            at_top(c, t);
            return set_phase(c, PH_TOP);
        }
        return set_phase(c, PH_ASCENT);
    }
    if (trunk < P(c, top_deg)) {
        at_top(c, t);
        return set_phase(c, PH_TOP);
    }
    int bent = (c->held & OK_KNEE) && knee - c->knee_onset_deg > P(c, knee_bend_deg);
    if (c->phase == PH_BOTTOM) {
        if (deeper) {
            c->t_bottom = -1.0;
            ev |= set_phase(c, bent ? PH_KNEE_BEND : PH_HINGE);
        }
    } else if (real && t - c->t_progress >= P(c, bottom_still_s)) {
        c->t_bottom = c->t_deep;
        ev |= set_phase(c, PH_BOTTOM);
    } else if (c->phase == PH_HINGE && bent) {
        ev |= set_phase(c, PH_KNEE_BEND);
    }
    return ev;
}

/* A first rep whose lifter, side-on at the lockout, turned to face the camera right after it:
 * nobody holding a loaded bar across the line of sight turns with it, but someone who bent for a
 * plate turns to walk off at once. */
static int turned_away(const Kernel *c) {
    double t_turn = c->t_turned - c->pend_t_lockout;
    return c->pend_side_on && 0.0 < t_turn && t_turn <= P(c, turn_away_s) && opens_set(c);
}

/* A rep from the floor counts once the bar goes back down (floor -> lockout -> floor): standing
 * up after setting the last rep down is not one. */
static int awaits_lowering(const Kernel *c) {
    return c->pend_floor && P(c, floor_lowered_within_s) > 0.0;
}

/* A pending rep: dropped if the feet walk off; counts after standing still for the confirmation
 * time, or once the next descent reaches a real bottom. */
static int check_pending(Kernel *c, double t) {
    if (c->tr.t_off >= 0.0) { /* the feet were seen away from the plant, and not back on it since */
        if (c->tr.off_plant && t - c->tr.t_off >= P(c, plant_hold_s)) c->pend = 0; /* still, after long: walked off */
        return 0;                                                /* someone passing may hide them */
    }
    double reach = P(c, walk_L) * scale_of(c);
    int walked = fabs(c->pelvis_x - c->pend_hip_x) > reach && c->phase == PH_TOP;
    if (walked || fabs(c->feet_x - c->pend_ankle_x) > reach || turned_away(c)) {
        c->pend = 0;
        return 0;
    }
    if (c->phase == PH_TOP && awaits_lowering(c)) {
        if (t - c->pend_t_lockout > P(c, floor_lowered_within_s)) c->pend = 0; /* never lowered again */
        return 0;
    }
    if (c->phase == PH_TOP) {
        double wait = opens_set(c) ? P(c, first_confirm_s) : P(c, confirm_s);
        return t - c->pend_t_lockout >= wait ? confirm(c) : 0;
    }
    if (c->phase == PH_ABSENT || c->max_trunk_deg < P(c, bottom_min_deg)) return 0;
    if (awaits_lowering(c) && c->onset_shoulder_L - c->low_shoulder_L < P(c, lowered_drop_L))
        return 0; /* the shoulders have not (yet) come down: a lean, or a misread trunk */
    return confirm(c);
}

static int phases(Kernel *c, double t, double dt) {
    int ev = 0;
    if (c->set_active && (c->phase == PH_TOP || c->phase == PH_ABSENT) && !c->pend) {
        int gone = c->phase == PH_ABSENT && t - c->t_present > P(c, set_leave_s);
        if (gone || t - c->set_t_end > P(c, set_rest_s)) ev |= end_set(c);
    }
    if (!(c->held & OK_TRUNK)) {
        if (c->phase != PH_ABSENT && t - c->t_present > P(c, absent_s)) {
            c->pend = 0;
            c->t_upright = -1.0;
            ev |= set_phase(c, PH_ABSENT);
        }
        return ev;
    }
    double trunk = c->trunk_deg, knee = c->knee_deg;
    int phase = c->phase;
    if (phase != PH_ABSENT && phase != PH_TOP && (c->held & OK_TRAVEL) && c->shoulder_height_L < c->low_shoulder_L)
        c->low_shoulder_L = c->shoulder_height_L; /* down or up: the rep's lowest point */
    if (phase == PH_ABSENT) {
        if (standing(c)) {
            if (c->t_upright < 0.0) c->t_upright = t;
            if (t - c->t_upright >= P(c, top_enter_s)) {
                at_top(c, t);
                ev |= set_phase(c, PH_TOP);
            }
        } else {
            c->t_upright = -1.0;
        }
    } else if (phase == PH_TOP) {
        ev |= top(c, t, dt);
    } else if (phase == PH_ASCENT) {
        if (standing(c)) {
            if (t - c->t_onset >= P(c, min_rep_s) && t - c->t_bottom >= P(c, min_ascent_s)) lockout(c, t);
            at_top(c, t);
            ev |= set_phase(c, PH_TOP);
        }
    } else {
        ev |= descent(c, t, trunk, knee);
    }
    if (c->pend) ev |= check_pending(c, t);
    return ev;
}

/* Core.step after the keypoints are read: 51 doubles in MoveNet order at time t; the event
 * bits, or -1 where the reference raises (c->err says which exception). */
int hinge_step(Kernel *c, const double *v, double t) {
    if (t <= c->t_prev) return 0;
    if (c->t_prev <= -1e299) c->t_front = t; /* the sides are not known yet */
    double dt = c->t_prev > -1e299 ? t - c->t_prev : 0.0;
    c->t_prev = t;
    c->err = ERR_NONE;
    vote_side(c, v, dt);
    int locked = c->set_active || c->pend;
    c->tr.lock_x = c->pend_ankle_x;
    c->tr.lock_r = locked ? P(c, body_lock_L) * scale_of(c) : 0.0;
    c->tr.oblique = c->view_ratio > P(c, oblique_view_ratio); /* far labels are the other limbs */
    int in_rep = PH_HINGE <= c->phase && c->phase <= PH_ASCENT;
    c->tr.plant_x = in_rep ? c->ankle_x_onset : c->pend_ankle_x;
    c->tr.plant_r = c->feet_seen && (in_rep || locked) ? P(c, walk_L) * scale_of(c) : 0.0;
    c->tr.near_settled = in_rep || t - c->t_front > P(c, turn_settle_s);
    hinge_fuse_and_filter(c, v, t, c->near_left, scale_of(c));
    if (c->tr.n_reinit >= 2) c->leg_px = c->torso_px = 0.0;
    quantities(c, v, t, dt);
    if (!c->tr.frame_jump) update_feet(c, v, dt);
    int ev = phases(c, t, dt);
    return c->err ? -1 : ev;
}

int hinge_finish(Kernel *c) {
    int ev = 0;
    if (c->pend && !awaits_lowering(c)) ev |= confirm(c);
    if (c->set_active) ev |= end_set(c);
    return ev;
}

void hinge_event_record(const Kernel *c, double frame, int bits, double t, double *out) {
    const double row[N_EVENT] = {
        frame, (double)bits, t, (double)c->phase,
        (double)c->rep_n, (double)c->rep_set_n, c->rep_t_start, c->rep_t_bottom, c->rep_t_lockout,
        (double)c->set_n, c->set_t_start, (double)c->ended_set_n, (double)c->ended_reps,
        c->ended_t_start, c->ended_t_end,
    };
    memcpy(out, row, sizeof row);
}
