/* The C port of the hinge detector's per-frame kernel (station/hinge/_reference.py, _filter.py).
 *
 * The Python reference is the specification: every function below mirrors one of it, in the
 * same order of floating-point operations, so that C and Python agree to the last bit (tests
 * check 1e-9). Python's math.hypot is correctly rounded, unlike C's hypot, so it is ported too;
 * Python's min/max keep their first argument on NaN, so they are spelled out. Compile with
 * -ffp-contract=off: a fused multiply-add would round differently from Python.
 *
 * Types: Core (the streaming detector state; step/finish/run) and TraceRing (the per-frame
 * trace a live detector keeps for grading). Portable C11, no global mutable state,
 * multi-phase module init; the params layout is looked up by name in station.hinge._layout.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030C0000
#define M_DOUBLE Py_T_DOUBLE
#define M_INT Py_T_INT
#define M_LONGLONG Py_T_LONGLONG
#define M_READONLY Py_READONLY
#else
#include <structmember.h>
#define M_DOUBLE T_DOUBLE
#define M_INT T_INT
#define M_LONGLONG T_LONGLONG
#define M_READONLY READONLY
#endif

#define N_KP 51 /* 17 keypoints x [y, x, score] */
#define N_JOINTS 4
#define N_TRACE 6
#define N_EVENT 15

enum { SHOULDER, HIP, KNEE, ANKLE };
enum { PH_ABSENT, PH_TOP, PH_HINGE, PH_KNEE_BEND, PH_BOTTOM, PH_ASCENT };
enum { EV_SET_ENDED = 1, EV_SET_STARTED = 2, EV_REP = 4, EV_PHASE = 8 };
enum { OK_TRUNK = 1, OK_KNEE = 2, OK_TRAVEL = 4, OK_SIDE = 8 };

static const double PI = 3.141592653589793; /* math.pi */
#define DEG (180.0 / PI)
#define TWO_PI (2.0 * PI)
#define DEPTH_STEP_DEG 1.0 /* a descent makes progress when the trunk deepens by more than this */
#define KNEE_STEP_DEG 4.0  /* ... or the knees by more than this */
#define BOTTOM_STEP 5.0    /* the bottom is dated at the last deepening by 5x these steps */
static const int LABELS[N_JOINTS][2] = {{5, 6}, {11, 12}, {13, 14}, {15, 16}};
static const int LEFT_SCORES[4] = {5 * 3 + 2, 11 * 3 + 2, 13 * 3 + 2, 15 * 3 + 2};
static const int RIGHT_SCORES[4] = {6 * 3 + 2, 12 * 3 + 2, 14 * 3 + 2, 16 * 3 + 2};
enum { NOSE = 0, L_EAR = 3, R_EAR = 4 };

/* The settings the kernel reads, by name; their positions in the params array come from
 * station.hinge._layout.PARAM_NAMES when the module loads (grading-only settings are skipped). */
#define KERNEL_PARAMS(X)                                                                           \
    X(min_score) X(side_window_s) X(facing_window_s) X(joint_gate_L) X(max_speed_L_s)              \
    X(reacquire_s) X(hold_s) X(hold_ankle_s) X(absent_s) X(euro_min_cutoff_hz) X(euro_beta)        \
    X(euro_d_cutoff_hz) X(oblique_view_ratio) X(side_switch_ratio) X(leg_calib_s)                  \
    X(side_view_max) X(top_deg) X(top_knee_deg) X(hinge_deg) X(bottom_min_deg)                     \
    X(ascent_drop_deg) X(knee_bend_deg) X(bottom_still_s) X(onset_margin_deg) X(top_base_s)        \
    X(min_descent_s) X(min_ascent_s) X(min_rep_s) X(top_enter_s) X(confirm_s) X(first_confirm_s) X(walk_L)      \
    X(feet_smooth_s) X(body_lock_L) X(set_rest_s) X(set_leave_s)

#define PARAM_ENUM(name) PI_##name,
enum { KERNEL_PARAMS(PARAM_ENUM) N_USED };
#define PARAM_NAME(name) #name,
static const char *const USED_NAMES[N_USED] = {KERNEL_PARAMS(PARAM_NAME)};
#define P(c, name) ((c)->p[PI_##name])

/* ------------------------------------------------------------------ math as Python does it */

/* Python's min(a, b) and max(a, b): the first argument unless the second compares beyond it. */
static inline double py_min(double a, double b) { return b < a ? b : a; }
static inline double py_max(double a, double b) { return b > a ? b : a; }

/* math.hypot(x, y) exactly as the running CPython computes it (Modules/mathmodule.c,
 * vector_norm): correctly rounded in practice, where glibc's hypot differs in the last bit in
 * ~0.5% of cases. 3.10-3.11 and 3.12+ differ in how they get there (and for subnormal
 * lengths, in the result), so both are here; the tests compare them with math.hypot. */
#define T27 134217729.0 /* 2**27 + 1: Veltkamp-Dekker splitting */

static inline uint64_t bits_of(double x) {
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double double_of(uint64_t b) {
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* frexp(max)'s exponent and ldexp(1.0, -exponent), read off the bits where that is exact. */
static inline int scale_of_max(double max, double *scale) {
    int biased = (int)((bits_of(max) >> 52) & 0x7ff), max_e;
    if (biased >= 1 && biased <= 2044) {
        *scale = double_of((uint64_t)(2045 - biased) << 52);
        return biased - 1022;
    }
    frexp(max, &max_e);
    *scale = max_e >= -1023 ? ldexp(1.0, -max_e) : 0.0;
    return max_e;
}

#if PY_VERSION_HEX < 0x030C0000
/* CPython 3.10-3.11: Neumaier sums of the split squares, one differential correction. */
static inline void neumaier(double *csum, double *frac, double x) {
    double oldcsum = *csum;
    *csum += x;
    *frac += (oldcsum - *csum) + x;
}

static double vector_norm2(double a, double b, double max, int found_nan) {
    if (isinf(max)) return max;
    if (found_nan) return NAN;
    if (max == 0.0) return max;
    double scale, csum = 1.0, frac1 = 0.0, frac2 = 0.0, frac3 = 0.0, x, t, hi, lo, h;
    int max_e = scale_of_max(max, &scale);
    if (max_e >= -1023) {
        const double vec[2] = {a, b};
        for (int i = 0; i < 2; i++) {
            x = vec[i] * scale;
            t = x * T27;
            hi = t - (t - x);
            lo = x - hi;
            neumaier(&csum, &frac1, hi * hi);
            neumaier(&csum, &frac2, 2.0 * hi * lo);
            frac3 += lo * lo;
        }
        h = sqrt(csum - 1.0 + (frac1 + frac2 + frac3));
        t = h * T27;
        hi = t - (t - h);
        lo = h - hi;
        neumaier(&csum, &frac1, -hi * hi);
        neumaier(&csum, &frac2, -2.0 * hi * lo);
        neumaier(&csum, &frac3, -lo * lo);
        x = csum - 1.0 + (frac1 + frac2 + frac3);
        return (h + x / (2.0 * h)) / scale;
    }
    x = a / max; /* subnormal lengths: divide by max instead of scaling */
    neumaier(&csum, &frac1, x * x);
    x = b / max;
    neumaier(&csum, &frac1, x * x);
    return max * sqrt(csum - 1.0 + frac1);
}
#else
/* CPython 3.12+: error-free products and sums (its dl_mul uses fma where 3.12 splits; both
 * give the exact product, so the plain-arithmetic split is used: no libm call off ARM). */
typedef struct { double hi, lo; } dl;

static inline dl dl_fast_sum(double a, double b) {
    double x = a + b;
    dl r = {x, (a - x) + b};
    return r;
}

static inline dl dl_mul(double x, double y) {
    double tx = x * T27, ty = y * T27;
    double xh = tx - (tx - x), yh = ty - (ty - y), xl = x - xh, yl = y - yh;
    double p = xh * yh, q = xh * yl + xl * yh, z = p + q;
    dl r = {z, p - z + q + xl * yl};
    return r;
}

static double vector_norm2(double a, double b, double max, int found_nan) {
    if (isinf(max)) return max;
    if (found_nan) return NAN;
    if (max == 0.0) return max;
    double scale;
    int max_e = scale_of_max(max, &scale);
    if (max_e < -1023) { /* subnormal lengths: scale to normal first */
        return DBL_MIN * vector_norm2(a / DBL_MIN, b / DBL_MIN, max / DBL_MIN, found_nan);
    }
    double csum = 1.0, frac1 = 0.0, frac2 = 0.0, x, h;
    dl pr, sm;
    const double vec[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        x = vec[i] * scale;
        pr = dl_mul(x, x);
        sm = dl_fast_sum(csum, pr.hi);
        csum = sm.hi;
        frac1 += pr.lo;
        frac2 += sm.lo;
    }
    h = sqrt(csum - 1.0 + (frac1 + frac2));
    pr = dl_mul(-h, h);
    sm = dl_fast_sum(csum, pr.hi);
    csum = sm.hi;
    frac1 += pr.lo;
    frac2 += sm.lo;
    x = csum - 1.0 + (frac1 + frac2);
    h += x / (2.0 * h);
    return h / scale;
}
#endif

static inline double py_hypot(double x, double y) {
    double ax = fabs(x), ay = fabs(y), max = 0.0;
    if (ax > max) max = ax;
    if (ay > max) max = ay;
    return vector_norm2(ax, ay, max, isnan(ax) || isnan(ay));
}

/* math.hypot(x, y) <= limit, decided as Python decides it. The plain sum of squares is within a
 * few ulp of the exact one, so away from the boundary it settles the comparison (the exact
 * hypot is only computed within 1e-12 of it, or outside the range where squares are safe). */
static inline int hypot_le(double x, double y, double limit) {
    double s = x * x + y * y, l2 = limit * limit;
    if (limit > 0.0 && s > 1e-300 && s < 1e300 && l2 > 1e-300 && l2 < 1e300) {
        if (s < l2 * (1.0 - 1e-12)) return 1;
        if (s > l2 * (1.0 + 1e-12)) return 0;
    }
    return py_hypot(x, y) <= limit;
}

/* ------------------------------------------------------------------ the kernel state */

typedef struct {
    double x[N_JOINTS], y[N_JOINTS], vx[N_JOINTS], vy[N_JOINTS], t_seen[N_JOINTS];
    int tracked[N_JOINTS];
    double rej_x[N_JOINTS], rej_y[N_JOINTS], t_rej[N_JOINTS], t_far[N_JOINTS];
    int near_left, frame_jump;
    long long n_reinit;
    double lock_x, lock_r; /* during a set: the lifter's spot (feet x, px) and how far from it a track may restart */
} Tracks;

typedef struct {
    double p[N_USED];
    Tracks tr;
    double width_px, height_px, t_prev, side_l, side_r;
    int near_left;
    double facing_acc;
    int facing;
    double leg_px, torso_px, view_ratio, trunk_deg, knee_deg, travel_L;
    int ok, held;
    double hip_x, ankle_x, feet_x, pelvis_x;
    int feet_seen;
    int phase;
    double t_present, t_upright, top_base_deg, t_onset, knee_onset_deg, ankle_x_onset;
    double max_trunk_deg, t_max_trunk, ref_trunk_deg, ref_knee_deg, t_progress, t_bottom;
    double deep_trunk_deg, deep_knee_deg, t_deep;
    int pend;
    double pend_t_start, pend_t_bottom, pend_t_lockout, pend_hip_x, pend_ankle_x;
    long long rep_n, rep_set_n;
    double rep_t_start, rep_t_bottom, rep_t_lockout;
    long long set_active, set_n, reps_in_set;
    double set_t_start, set_t_end;
    long long ended_set_n, ended_reps;
    double ended_t_start, ended_t_end;
    int err; /* the exception the reference would raise in this frame (ERR_*), 0 if none */
    double side_decay; /* this frame's exp(-dt / side_window_s): the side vote's, reused by the view */
} Kernel;

/* Where Python's float division and math.exp raise, the reference stops with an exception: the
 * kernel notes the first such error of a frame (and goes on with NaN or inf; the frame fails). */
enum { ERR_NONE, ERR_ZERO_DIVISION, ERR_OVERFLOW };

static inline double pdiv(Kernel *c, double a, double b) {
    if (b == 0.0) {
        if (!c->err) c->err = ERR_ZERO_DIVISION;
        return NAN;
    }
    return a / b;
}

static inline double pexp(Kernel *c, double x) {
    double r = exp(x);
    if (isinf(r) && isfinite(x) && !c->err) c->err = ERR_OVERFLOW;
    return r;
}

/* math.exp(-dt / window): the decay of a running value over dt. */
static inline double decay(Kernel *c, double dt, double window) { return pexp(c, pdiv(c, -dt, window)); }

static void kernel_init(Kernel *c, double width_px, double height_px) {
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
    tr->n_reinit = 0;
    tr->lock_x = tr->lock_r = 0.0;
    c->width_px = width_px;
    c->height_px = height_px;
    c->t_prev = -1e300;
    c->side_l = c->side_r = 0.0;
    c->near_left = 1;
    c->facing_acc = 0.0;
    c->facing = 1;
    c->leg_px = c->torso_px = c->view_ratio = 0.0;
    c->trunk_deg = c->knee_deg = c->travel_L = 0.0;
    c->ok = c->held = 0;
    c->hip_x = c->ankle_x = 0.0;
    c->feet_x = c->pelvis_x = 0.0;
    c->feet_seen = 0;
    c->phase = PH_ABSENT;
    c->t_present = -1e300;
    c->t_upright = -1.0;
    c->top_base_deg = 0.0;
    c->t_onset = c->knee_onset_deg = c->ankle_x_onset = 0.0;
    c->max_trunk_deg = c->t_max_trunk = 0.0;
    c->ref_trunk_deg = c->ref_knee_deg = c->t_progress = 0.0;
    c->t_bottom = -1.0;
    c->deep_trunk_deg = c->deep_knee_deg = c->t_deep = 0.0;
    c->pend = 0;
    c->pend_t_start = c->pend_t_bottom = c->pend_t_lockout = 0.0;
    c->pend_hip_x = c->pend_ankle_x = 0.0;
    c->rep_n = c->rep_set_n = 0;
    c->rep_t_start = c->rep_t_bottom = c->rep_t_lockout = 0.0;
    c->set_active = c->set_n = c->reps_in_set = 0;
    c->set_t_start = c->set_t_end = 0.0;
    c->ended_set_n = c->ended_reps = 0;
    c->ended_t_start = c->ended_t_end = 0.0;
    c->err = ERR_NONE;
    c->side_decay = 1.0;
}

/* ------------------------------------------------------------------ _filter.py */

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

static void euro_update(Kernel *c, Tracks *tr, int j, double x, double y, double t, double scale_px) {
    double dt = t - tr->t_seen[j];
    if (dt <= 0.0) return;
    double ad = euro_alpha(c, P(c, euro_d_cutoff_hz), dt);
    tr->vx[j] += ad * ((x - tr->x[j]) / dt - tr->vx[j]);
    tr->vy[j] += ad * ((y - tr->y[j]) / dt - tr->vy[j]);
    double speed_L_s = pdiv(c, py_hypot(tr->vx[j], tr->vy[j]), scale_px);
    double a = euro_alpha(c, P(c, euro_min_cutoff_hz) + P(c, euro_beta) * speed_L_s, dt);
    tr->x[j] += a * (x - tr->x[j]);
    tr->y[j] += a * (y - tr->y[j]);
    tr->t_seen[j] = t;
}

static void fuse_and_filter(Kernel *c, const double *v, double t, int near_left, double scale_px) {
    Tracks *tr = &c->tr;
    const double width_px = c->width_px, height_px = c->height_px, min_score = P(c, min_score);
    double cand_x[N_JOINTS] = {0}, cand_y[N_JOINTS] = {0};
    int status[N_JOINTS], restart[N_JOINTS];
    if (near_left != tr->near_left) {
        tr->near_left = near_left;
        for (int j = 0; j < N_JOINTS; j++) tr->tracked[j] = 0;
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
        int n_in = n_ok && hypot_le(nx - px, ny - py, gate);
        int f_in = f_ok && hypot_le(fx - px, fy - py, gate);
        if (n_in && (!f_in || ns >= fs)) {
            cand_x[j] = nx;
            cand_y[j] = ny;
            status[j] = 1;
            n_acc += 1;
            tr->t_far[j] = -1.0;
        } else if (f_in) {
            cand_x[j] = fx;
            cand_y[j] = fy;
            status[j] = 1;
            n_acc += 1;
            if (!n_ok) {
                tr->t_far[j] = -1.0;
            } else if (tr->t_far[j] < 0.0) {
                tr->t_far[j] = t;
            } else if (t - tr->t_far[j] >= P(c, reacquire_s)) {
                cand_x[j] = nx;
                cand_y[j] = ny;
                restart[j] = 1;
                tr->t_far[j] = -1.0;
            }
        } else {
            cand_x[j] = n_ok ? nx : fx;
            cand_y[j] = n_ok ? ny : fy;
            status[j] = 2;
            n_rej += 1;
        }
    }
    int frame_jump = n_rej >= 2 && n_rej >= n_acc;
    tr->frame_jump = frame_jump;
    tr->n_reinit = 0;
    for (int j = 0; j < N_JOINTS; j++) {
        if (status[j] == 1 && !frame_jump) {
            tr->t_rej[j] = -1.0;
            if (restart[j]) {
                track_start(tr, j, cand_x[j], cand_y[j], t);
            } else if (tr->tracked[j]) {
                euro_update(c, tr, j, cand_x[j], cand_y[j], t, scale_px);
            } else {
                track_start(tr, j, cand_x[j], cand_y[j], t);
            }
        } else if (status[j] == 2) {
            note_rejection(c, tr, j, cand_x[j], cand_y[j], t, scale_px);
        }
    }
}

/* ------------------------------------------------------------------ _reference.py: votes and quantities */

static inline double scale_of(const Kernel *c) {
    if (c->leg_px > 0.0) return c->leg_px;
    if (c->torso_px > 0.0) return 1.6 * c->torso_px;
    return 0.3 * py_max(c->width_px, c->height_px);
}

static inline int standing(const Kernel *c) {
    return c->trunk_deg <= P(c, top_deg) && fabs(c->knee_deg) <= P(c, top_knee_deg);
}

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

/* Leg and torso lengths (0 = not measured now): first measurement, then standing frames. */
static void calibrate(Kernel *c, double leg_px, double torso_px, double dt) {
    double a = 1.0 - decay(c, dt, P(c, leg_calib_s));
    int is_standing = standing(c);
    if (leg_px > 0.0) {
        if (c->leg_px <= 0.0) {
            c->leg_px = leg_px;
        } else if (is_standing) {
            c->leg_px += a * (leg_px - c->leg_px);
        }
    }
    if (torso_px > 0.0) {
        if (c->torso_px <= 0.0) {
            c->torso_px = torso_px;
        } else if (is_standing) {
            c->torso_px += a * (torso_px - c->torso_px);
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

static void quantities(Kernel *c, const double *v, double t, double dt) {
    const Tracks *tr = &c->tr;
    const double hold = P(c, hold_s);
    int sh_fresh = tr->tracked[SHOULDER] && t - tr->t_seen[SHOULDER] <= hold;
    int hip_fresh = tr->tracked[HIP] && t - tr->t_seen[HIP] <= hold;
    int knee_fresh = tr->tracked[KNEE] && t - tr->t_seen[KNEE] <= hold;
    int ankle_fresh = tr->tracked[ANKLE] && t - tr->t_seen[ANKLE] <= P(c, hold_ankle_s);
    int sh_now = tr->t_seen[SHOULDER] == t, hip_now = tr->t_seen[HIP] == t, knee_now = tr->t_seen[KNEE] == t;
    double sx = tr->x[SHOULDER], sy = tr->y[SHOULDER], hx = tr->x[HIP], hy = tr->y[HIP];
    double kx = tr->x[KNEE], ky = tr->y[KNEE], ax = tr->x[ANKLE], ay = tr->y[ANKLE];
    int ok = 0, held = 0;
    c->hip_x = hx;
    c->ankle_x = ax;
    double torso_px = 0.0;
    if (sh_fresh && hip_fresh) {
        held |= OK_TRUNK;
        ok |= (sh_now && hip_now) ? OK_TRUNK : 0;
        c->t_present = t;
        double rise = hy - sy;
        double horiz = fabs(sx - hx);
        torso_px = py_hypot(horiz, rise);
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
    double knee_side = 0.0, leg_px = 0.0;
    if (hip_fresh && knee_fresh && ankle_fresh) {
        held |= OK_KNEE;
        ok |= (hip_now && knee_now) ? OK_KNEE : 0;
        double ux = hx - kx, uy = hy - ky, wx = ax - kx, wy = ay - ky;
        double bend = 180.0 - atan2(fabs(ux * wy - uy * wx), ux * wx + uy * wy) * DEG;
        double side = (ax - hx) * (ky - hy) - (ay - hy) * (kx - hx);
        c->knee_deg = side * (double)c->facing <= 0.0 ? bend : -bend;
        if (bend > 20.0) knee_side = side < 0.0 ? 1.0 : -1.0;
        leg_px = py_hypot(ux, uy) + py_hypot(wx, wy);
    }
    calibrate(c, leg_px, torso_px, dt);
    vote_facing(c, v, dt, knee_side);
    if (hip_fresh && ankle_fresh && c->leg_px > 0.0) {
        held |= OK_TRAVEL;
        ok |= hip_now ? OK_TRAVEL : 0;
        c->travel_L = (double)c->facing * (ax - hx) / c->leg_px;
    }
    update_view(c, v);
    if (c->view_ratio <= P(c, side_view_max)) {
        ok |= OK_SIDE;
        held |= OK_SIDE;
    }
    c->ok = ok;
    c->held = held;
}

/* ------------------------------------------------------------------ _reference.py: phases, reps, sets */

static inline int set_phase(Kernel *c, int phase) {
    if (phase == c->phase) return 0;
    c->phase = phase;
    return EV_PHASE;
}

static void mark_onset(Kernel *c, double t) {
    c->t_onset = t;
    c->knee_onset_deg = c->knee_deg;
    c->ankle_x_onset = c->feet_x;
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

/* A pending rep: dropped if the feet walk off; counts after standing still for the confirmation
 * time, or once the next descent reaches a real bottom. */
static int check_pending(Kernel *c, double t) {
    double reach = P(c, walk_L) * scale_of(c);
    int walked = fabs(c->pelvis_x - c->pend_hip_x) > reach && c->phase == PH_TOP;
    if (walked || fabs(c->feet_x - c->pend_ankle_x) > reach) {
        c->pend = 0;
        return 0;
    }
    if (c->phase == PH_TOP) {
        double wait = opens_set(c) ? P(c, first_confirm_s) : P(c, confirm_s);
        return t - c->pend_t_lockout >= wait ? confirm(c) : 0;
    }
    if (c->phase != PH_ABSENT && c->max_trunk_deg >= P(c, bottom_min_deg)) return confirm(c);
    return 0;
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
static int kernel_step(Kernel *c, const double *v, double t) {
    if (t <= c->t_prev) return 0;
    double dt = c->t_prev > -1e299 ? t - c->t_prev : 0.0;
    c->t_prev = t;
    c->err = ERR_NONE;
    vote_side(c, v, dt);
    int locked = c->set_active || c->pend;
    c->tr.lock_x = c->pend_ankle_x;
    c->tr.lock_r = locked ? P(c, body_lock_L) * scale_of(c) : 0.0;
    fuse_and_filter(c, v, t, c->near_left, scale_of(c));
    if (c->tr.n_reinit >= 2) c->leg_px = c->torso_px = 0.0;
    quantities(c, v, t, dt);
    if (!c->tr.frame_jump) update_feet(c, v, dt);
    int ev = phases(c, t, dt);
    return c->err ? -1 : ev;
}

static PyObject *raise_kernel_error(const Kernel *c) {
    if (c->err == ERR_OVERFLOW) {
        PyErr_SetString(PyExc_OverflowError, "math range error");
    } else {
        PyErr_SetString(PyExc_ZeroDivisionError, "float division by zero");
    }
    return NULL;
}

static int kernel_finish(Kernel *c) {
    int ev = 0;
    if (c->pend) ev |= confirm(c);
    if (c->set_active) ev |= end_set(c);
    return ev;
}

static void event_record(const Kernel *c, double frame, int bits, double t, double *out) {
    const double row[N_EVENT] = {
        frame, (double)bits, t, (double)c->phase,
        (double)c->rep_n, (double)c->rep_set_n, c->rep_t_start, c->rep_t_bottom, c->rep_t_lockout,
        (double)c->set_n, c->set_t_start, (double)c->ended_set_n, (double)c->ended_reps,
        c->ended_t_start, c->ended_t_end,
    };
    memcpy(out, row, sizeof row);
}

static inline void trace_row(const Kernel *c, double t, double *out) {
    out[0] = t;
    out[1] = (double)c->phase;
    out[2] = c->trunk_deg;
    out[3] = c->knee_deg;
    out[4] = c->travel_L;
    out[5] = (double)c->ok;
}

/* ------------------------------------------------------------------ reading Python input */

/* Attribute and method names, interned once (a fresh string per call would churn CPython's
 * method cache, which keys on the string object). */
#define NAMES(X) X(ravel) X(tolist) X(phase) X(trunk_deg) X(knee_deg) X(travel_L) X(ok)
#define NAME_FIELD(name) PyObject *str_##name;

typedef struct {
    Py_ssize_t param_index[N_USED]; /* where each kernel setting sits in the params array */
    Py_ssize_t n_params;
    PyTypeObject *core_type;
    PyTypeObject *ring_type;
    NAMES(NAME_FIELD)
} ModState;

static struct PyModuleDef module_def;

/* 'f' or 'd' for a native float32/float64 buffer format, else 0. */
static char float_format(const char *fmt) {
    if (fmt == NULL) return 0;
    if (fmt[0] == '@' || fmt[0] == '=' || (PY_LITTLE_ENDIAN && fmt[0] == '<') || (!PY_LITTLE_ENDIAN && fmt[0] == '>')) fmt++;
    if ((fmt[0] == 'f' || fmt[0] == 'd') && fmt[1] == '\0') return fmt[0];
    return 0;
}

/* The indices of the 51 values the kernel reads (the rest: eyes, arms, nose and ear y). */
static int used_index(Py_ssize_t i) {
    int kp = (int)(i / 3), col = (int)(i % 3);
    if (kp >= 5 && kp != 7 && kp != 8 && kp != 9 && kp != 10) return 1;
    return kp == NOSE || kp == L_EAR || kp == R_EAR ? col != 0 : 0;
}

/* A frame as the reference reads it, `keypoints.ravel().tolist()`: the first 51 values in C
 * order into v, their count into *n. A contiguous float32/float64 buffer is read directly;
 * anything else goes through ravel().tolist() like the reference. A value the kernel reads
 * that is not a real number is reported through *bad (no exception is set). */
static int read_frame(const ModState *st, PyObject *obj, double *v, Py_ssize_t *n, int *bad) {
    Py_buffer view;
    *bad = 0;
    if (PyObject_CheckBuffer(obj) && PyObject_GetBuffer(obj, &view, PyBUF_RECORDS_RO) == 0) {
        char f = float_format(view.format);
        if (f && PyBuffer_IsContiguous(&view, 'C')) {
            Py_ssize_t count = view.len / view.itemsize, m = count < N_KP ? count : N_KP;
            if (f == 'f') {
                const float *src = (const float *)view.buf;
                for (Py_ssize_t i = 0; i < m; i++) v[i] = (double)src[i];
            } else {
                memcpy(v, view.buf, (size_t)m * sizeof(double));
            }
            *n = count;
            PyBuffer_Release(&view);
            return 0;
        }
        PyBuffer_Release(&view);
    } else {
        PyErr_Clear();
    }
    PyObject *flat = PyObject_CallMethodNoArgs(obj, st->str_ravel);
    if (flat == NULL) return -1;
    PyObject *list = PyObject_CallMethodNoArgs(flat, st->str_tolist);
    Py_DECREF(flat);
    if (list == NULL) return -1;
    PyObject *seq = PySequence_Fast(list, "keypoints.ravel().tolist() must return a sequence");
    Py_DECREF(list);
    if (seq == NULL) return -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq), m = count < N_KP ? count : N_KP;
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < m; i++) {
        v[i] = NAN;
        if (!used_index(i)) continue;
        double x = PyFloat_AsDouble(items[i]);
        if (x == -1.0 && PyErr_Occurred()) {
            PyErr_Clear(); /* raised after the time check, as the reference would */
            *bad = 1;
            break;
        }
        v[i] = x;
    }
    Py_DECREF(seq);
    *n = count;
    return 0;
}

/* ------------------------------------------------------------------ Core */

typedef struct {
    PyObject_HEAD
    int busy; /* a batch runs without the GIL: other threads must not step meanwhile */
    Kernel k;
} CoreObject;

static int float_of(PyObject *obj, double *out) {
    PyObject *f = PyNumber_Float(obj);
    if (f == NULL) return -1;
    *out = PyFloat_AS_DOUBLE(f);
    Py_DECREF(f);
    return 0;
}

static PyObject *core_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"params", "width_px", "height_px", NULL};
    PyObject *params, *width, *height;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO:Core", kwlist, &params, &width, &height)) return NULL;
    ModState *st = (ModState *)PyType_GetModuleState(type);
    if (st == NULL) return NULL;
    Py_ssize_t n = PyObject_Length(params);
    if (n < 0) return NULL;
    if (n != st->n_params) {
        return PyErr_Format(PyExc_ValueError, "params has %zd values, expected %zd", n, st->n_params);
    }
    PyObject *seq = PySequence_Fast(params, "params must be a sequence of numbers");
    if (seq == NULL) return NULL;
    double all[256];
    Py_ssize_t m = PySequence_Fast_GET_SIZE(seq);
    if (m != n || m > 256) {
        Py_DECREF(seq);
        return PyErr_Format(PyExc_ValueError, "params has %zd values, expected %zd", m, st->n_params);
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        if (float_of(PySequence_Fast_GET_ITEM(seq, i), &all[i]) < 0) {
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    double w, h;
    if (float_of(width, &w) < 0 || float_of(height, &h) < 0) return NULL;
    CoreObject *self = (CoreObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->busy = 0;
    kernel_init(&self->k, w, h);
    for (int k = 0; k < N_USED; k++) self->k.p[k] = all[st->param_index[k]];
    return (PyObject *)self;
}

static void core_dealloc(PyObject *self) {
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int check_idle(CoreObject *self) {
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError, "this Core is running a batch in another thread");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(core_step_doc, "step(keypoints, t) -> int\n--\n\n"
             "Feed one frame ((17, 3) [y, x, score] normalised; NaN = missing) at time t; return event bits.");

static PyObject *core_step(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    CoreObject *self = (CoreObject *)op;
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "step() takes 2 arguments (keypoints, t), got %zd", nargs);
    if (check_idle(self) < 0) return NULL;
    double v[N_KP];
    Py_ssize_t n;
    int bad;
    ModState *st = (ModState *)PyType_GetModuleState(Py_TYPE(op));
    if (st == NULL || read_frame(st, args[0], v, &n, &bad) < 0) return NULL;
    double t = PyFloat_AsDouble(args[1]);
    if (t == -1.0 && PyErr_Occurred()) return NULL;
    Kernel *c = &self->k;
    if (t <= c->t_prev) return PyLong_FromLong(0);
    if (n < N_KP) {
        c->t_prev = t;
        PyErr_SetString(PyExc_IndexError, "list index out of range (keypoints hold fewer than 51 values)");
        return NULL;
    }
    if (bad) {
        c->t_prev = t;
        PyErr_SetString(PyExc_TypeError, "keypoints must hold real numbers");
        return NULL;
    }
    int bits = kernel_step(c, v, t);
    return bits < 0 ? raise_kernel_error(c) : PyLong_FromLong(bits);
}

PyDoc_STRVAR(core_finish_doc, "finish(t) -> int\n--\n\nEnd of input: a pending rep counts, an open set closes; return event bits.");

static PyObject *core_finish(PyObject *op, PyObject *arg) {
    CoreObject *self = (CoreObject *)op;
    (void)arg; /* like the reference, the time is not used */
    if (check_idle(self) < 0) return NULL;
    return PyLong_FromLong(kernel_finish(&self->k));
}

static int get_buffer(PyObject *obj, Py_buffer *view, int flags, const char *what) {
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        if (PyObject_CheckBuffer(obj) && (flags & PyBUF_WRITABLE)) {
            PyErr_Format(PyExc_ValueError, "%s must be a writable array", what);
        } else {
            PyErr_Format(PyExc_TypeError, "%s must be a numpy array (an object with the buffer protocol), got %.100s",
                         what, Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    if (!PyBuffer_IsContiguous(view, 'C')) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s must be C-contiguous (use numpy.ascontiguousarray)", what);
        return -1;
    }
    return 0;
}

static void shape_text(const Py_buffer *view, char *out, size_t size) {
    size_t used = (size_t)PyOS_snprintf(out, size, "(");
    for (int i = 0; i < view->ndim && used < size; i++) {
        used += (size_t)PyOS_snprintf(out + used, size - used, i ? ", %zd" : "%zd", view->shape[i]);
    }
    if (used < size) PyOS_snprintf(out + used, size - used, view->ndim == 1 ? ",)" : ")");
}

typedef struct {
    double *rows;
    size_t n, cap;
} Records;

static int records_push(Records *r, const Kernel *c, double frame, int bits, double t) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        if (cap > PY_SSIZE_T_MAX / (N_EVENT * sizeof(double))) return -1;
        double *rows = (double *)PyMem_RawRealloc(r->rows, cap * N_EVENT * sizeof(double));
        if (rows == NULL) return -1;
        r->rows = rows;
        r->cap = cap;
    }
    event_record(c, frame, bits, t, r->rows + r->n * N_EVENT);
    r->n += 1;
    return 0;
}

PyDoc_STRVAR(core_run_doc, "run(keypoints, t, trace) -> bytearray\n--\n\n"
             "Batch: step over (N, 17, 3) float32/float64 keypoints at float64 times t (N,), then finish.\n"
             "Writes the trace (TRACE_COLUMNS) into the float64 (N, 6) array `trace` and returns the\n"
             "event records (EVENT_COLUMNS) as float64 bytes, one row of 15 per record.");

static PyObject *core_run(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    CoreObject *self = (CoreObject *)op;
    if (nargs != 3) return PyErr_Format(PyExc_TypeError, "run() takes 3 arguments (keypoints, t, trace), got %zd", nargs);
    if (check_idle(self) < 0) return NULL;
    Py_buffer kv, tv, rv;
    char shape[96];
    if (get_buffer(args[0], &kv, PyBUF_RECORDS_RO, "keypoints") < 0) return NULL;
    char f = float_format(kv.format);
    if (!f) {
        PyErr_Format(PyExc_TypeError, "keypoints must be float32 or float64, got buffer format '%s'", kv.format ? kv.format : "B");
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (kv.ndim != 3 || kv.shape[1] != 17 || kv.shape[2] != 3) {
        shape_text(&kv, shape, sizeof shape);
        PyErr_Format(PyExc_ValueError, "keypoints must have shape (N, 17, 3), got %s", shape);
        PyBuffer_Release(&kv);
        return NULL;
    }
    Py_ssize_t n = kv.shape[0];
    if (get_buffer(args[1], &tv, PyBUF_RECORDS_RO, "t") < 0) {
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (float_format(tv.format) != 'd' || tv.ndim != 1 || tv.shape[0] != n) {
        if (float_format(tv.format) != 'd') {
            PyErr_Format(PyExc_TypeError, "t must be float64, got buffer format '%s'", tv.format ? tv.format : "B");
        } else {
            shape_text(&tv, shape, sizeof shape);
            PyErr_Format(PyExc_ValueError, "t must have shape (%zd,) to match keypoints, got %s", n, shape);
        }
        PyBuffer_Release(&tv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (get_buffer(args[2], &rv, PyBUF_RECORDS, "trace") < 0) {
        PyBuffer_Release(&tv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    if (float_format(rv.format) != 'd' || rv.ndim != 2 || rv.shape[0] != n || rv.shape[1] != N_TRACE) {
        shape_text(&rv, shape, sizeof shape);
        PyErr_Format(PyExc_ValueError, "trace must be a writable float64 array of shape (%zd, %d), got %s", n, N_TRACE, shape);
        PyBuffer_Release(&rv);
        PyBuffer_Release(&tv);
        PyBuffer_Release(&kv);
        return NULL;
    }
    Kernel *c = &self->k;
    Records rec = {NULL, 0, 0};
    int failed = 0;
    const double *ts = (const double *)tv.buf;
    double *trace = (double *)rv.buf;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    double v[N_KP];
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        if (f == 'f') {
            const float *src = (const float *)kv.buf + i * N_KP;
            for (int k = 0; k < N_KP; k++) v[k] = (double)src[k];
        } else {
            memcpy(v, (const double *)kv.buf + i * N_KP, sizeof v);
        }
        double ti = ts[i];
        int bits = kernel_step(c, v, ti);
        if (bits < 0) {
            failed = 2;
            break;
        }
        if (bits && records_push(&rec, c, (double)i, bits, ti) < 0) failed = 1;
        trace_row(c, ti, trace + i * N_TRACE);
    }
    if (n && !failed) {
        int bits = kernel_finish(c);
        if (bits && records_push(&rec, c, (double)n, bits, ts[n - 1]) < 0) failed = 1;
    }
    Py_END_ALLOW_THREADS
    self->busy = 0;
    PyBuffer_Release(&rv);
    PyBuffer_Release(&tv);
    PyBuffer_Release(&kv);
    PyObject *out = NULL;
    if (failed == 2) {
        raise_kernel_error(c);
    } else if (failed) {
        PyErr_NoMemory();
    } else {
        out = PyByteArray_FromStringAndSize((const char *)rec.rows, (Py_ssize_t)(rec.n * N_EVENT * sizeof(double)));
    }
    PyMem_RawFree(rec.rows);
    return out;
}

static PyObject *list_d(const double *x, int n) {
    PyObject *out = PyList_New(n);
    if (out == NULL) return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *f = PyFloat_FromDouble(x[i]);
        if (f == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, f);
    }
    return out;
}

static int put(PyObject *dict, const char *key, PyObject *value) {
    if (value == NULL) return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* The joint tracks as a dict of lists, keyed like the reference's JointTracks slots. */
static PyObject *core_get_tracks(PyObject *op, void *closure) {
    (void)closure;
    const Tracks *tr = &((CoreObject *)op)->k.tr;
    double tracked[N_JOINTS];
    for (int j = 0; j < N_JOINTS; j++) tracked[j] = tr->tracked[j];
    PyObject *d = PyDict_New();
    if (d == NULL) return NULL;
    if (put(d, "x", list_d(tr->x, N_JOINTS)) < 0 || put(d, "y", list_d(tr->y, N_JOINTS)) < 0
        || put(d, "vx", list_d(tr->vx, N_JOINTS)) < 0 || put(d, "vy", list_d(tr->vy, N_JOINTS)) < 0
        || put(d, "t_seen", list_d(tr->t_seen, N_JOINTS)) < 0 || put(d, "tracked", list_d(tracked, N_JOINTS)) < 0
        || put(d, "rej_x", list_d(tr->rej_x, N_JOINTS)) < 0 || put(d, "rej_y", list_d(tr->rej_y, N_JOINTS)) < 0
        || put(d, "t_rej", list_d(tr->t_rej, N_JOINTS)) < 0 || put(d, "t_far", list_d(tr->t_far, N_JOINTS)) < 0
        || put(d, "near_left", PyBool_FromLong(tr->near_left)) < 0
        || put(d, "frame_jump", PyLong_FromLong(tr->frame_jump)) < 0
        || put(d, "lock_x", PyFloat_FromDouble(tr->lock_x)) < 0 || put(d, "lock_r", PyFloat_FromDouble(tr->lock_r)) < 0
        || put(d, "n_reinit", PyLong_FromLongLong(tr->n_reinit)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *core_get_near_left(PyObject *op, void *closure) {
    (void)closure;
    return PyBool_FromLong(((CoreObject *)op)->k.near_left);
}

static PyMethodDef core_methods[] = {
    {"step", (PyCFunction)(void (*)(void))core_step, METH_FASTCALL, core_step_doc},
    {"finish", core_finish, METH_O, core_finish_doc},
    {"run", (PyCFunction)(void (*)(void))core_run, METH_FASTCALL, core_run_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef core_getset[] = {
    {"tracks", core_get_tracks, NULL, "the joint tracks (dict of lists, like the reference's JointTracks)", NULL},
    {"near_left", core_get_near_left, NULL, "whether the left labels are the near side", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

#define MEMBER(type, name) {#name, type, offsetof(CoreObject, k.name), M_READONLY, NULL},
static PyMemberDef core_members[] = {
    MEMBER(M_DOUBLE, width_px) MEMBER(M_DOUBLE, height_px) MEMBER(M_DOUBLE, t_prev)
    MEMBER(M_DOUBLE, side_l) MEMBER(M_DOUBLE, side_r) MEMBER(M_DOUBLE, facing_acc) MEMBER(M_INT, facing)
    MEMBER(M_DOUBLE, leg_px) MEMBER(M_DOUBLE, torso_px) MEMBER(M_DOUBLE, view_ratio)
    MEMBER(M_DOUBLE, trunk_deg) MEMBER(M_DOUBLE, knee_deg) MEMBER(M_DOUBLE, travel_L)
    MEMBER(M_INT, ok) MEMBER(M_INT, held) MEMBER(M_DOUBLE, hip_x) MEMBER(M_DOUBLE, ankle_x)
    MEMBER(M_DOUBLE, feet_x) MEMBER(M_DOUBLE, pelvis_x) MEMBER(M_INT, feet_seen)
    MEMBER(M_INT, phase) MEMBER(M_DOUBLE, t_present) MEMBER(M_DOUBLE, t_upright)
    MEMBER(M_DOUBLE, top_base_deg) MEMBER(M_DOUBLE, t_onset) MEMBER(M_DOUBLE, knee_onset_deg)
    MEMBER(M_DOUBLE, ankle_x_onset) MEMBER(M_DOUBLE, max_trunk_deg) MEMBER(M_DOUBLE, t_max_trunk)
    MEMBER(M_DOUBLE, ref_trunk_deg) MEMBER(M_DOUBLE, ref_knee_deg) MEMBER(M_DOUBLE, t_progress)
    MEMBER(M_DOUBLE, t_bottom)
    MEMBER(M_DOUBLE, deep_trunk_deg) MEMBER(M_DOUBLE, deep_knee_deg) MEMBER(M_DOUBLE, t_deep) MEMBER(M_INT, pend) MEMBER(M_DOUBLE, pend_t_start)
    MEMBER(M_DOUBLE, pend_t_bottom) MEMBER(M_DOUBLE, pend_t_lockout) MEMBER(M_DOUBLE, pend_hip_x)
    MEMBER(M_DOUBLE, pend_ankle_x) MEMBER(M_LONGLONG, rep_n) MEMBER(M_LONGLONG, rep_set_n)
    MEMBER(M_DOUBLE, rep_t_start) MEMBER(M_DOUBLE, rep_t_bottom) MEMBER(M_DOUBLE, rep_t_lockout)
    MEMBER(M_LONGLONG, set_active) MEMBER(M_LONGLONG, set_n) MEMBER(M_LONGLONG, reps_in_set)
    MEMBER(M_DOUBLE, set_t_start) MEMBER(M_DOUBLE, set_t_end) MEMBER(M_LONGLONG, ended_set_n)
    MEMBER(M_LONGLONG, ended_reps) MEMBER(M_DOUBLE, ended_t_start) MEMBER(M_DOUBLE, ended_t_end)
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(core_doc, "Core(params, width_px, height_px)\n--\n\n"
             "Streaming phase detector state over plain numbers: the C port of the reference Core.");

static PyType_Slot core_slots[] = {
    {Py_tp_new, (void *)core_new},
    {Py_tp_dealloc, (void *)core_dealloc},
    {Py_tp_methods, core_methods},
    {Py_tp_members, core_members},
    {Py_tp_getset, core_getset},
    {Py_tp_doc, (void *)core_doc},
    {0, NULL},
};

static PyType_Spec core_spec = {
    .name = "station.hinge._speedups.Core",
    .basicsize = sizeof(CoreObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = core_slots,
};

/* ------------------------------------------------------------------ TraceRing */

typedef struct {
    PyObject_HEAD
    Py_ssize_t capacity, next;
    int full;
    double *buf; /* capacity rows of TRACE_COLUMNS */
} RingObject;

static PyObject *ring_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"capacity", NULL};
    Py_ssize_t capacity = 4096; /* 68 s at 60 fps: longer than any descent */
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|n:TraceRing", kwlist, &capacity)) return NULL;
    if (capacity < 1 || (size_t)capacity > PY_SSIZE_T_MAX / (N_TRACE * sizeof(double))) {
        return PyErr_Format(PyExc_ValueError, "capacity must be a positive number of rows, got %zd", capacity);
    }
    RingObject *self = (RingObject *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->buf = (double *)PyMem_Calloc((size_t)capacity * N_TRACE, sizeof(double));
    if (self->buf == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->capacity = capacity;
    self->next = 0;
    self->full = 0;
    return (PyObject *)self;
}

static void ring_dealloc(PyObject *op) {
    RingObject *self = (RingObject *)op;
    PyTypeObject *tp = Py_TYPE(op);
    PyMem_Free(self->buf);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static int attr_double(PyObject *obj, PyObject *name, double *out) {
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL) return -1;
    int rc = float_of(value, out);
    Py_DECREF(value);
    return rc;
}

PyDoc_STRVAR(ring_append_doc, "append(t_s, core)\n--\n\nKeep the core's trace row of this frame (TRACE_COLUMNS).");

static PyObject *ring_append(PyObject *op, PyObject *const *args, Py_ssize_t nargs) {
    RingObject *self = (RingObject *)op;
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "append() takes 2 arguments (t_s, core), got %zd", nargs);
    double t = PyFloat_AsDouble(args[0]);
    if (t == -1.0 && PyErr_Occurred()) return NULL;
    double *row = self->buf + self->next * N_TRACE;
    /* By definition, not by type: the station subclasses TraceRing in Python. */
    PyObject *module = PyType_GetModuleByDef(Py_TYPE(op), &module_def);
    if (module == NULL) return NULL;
    ModState *st = (ModState *)PyModule_GetState(module);
    if (Py_IS_TYPE(args[1], st->core_type)) {
        trace_row(&((CoreObject *)args[1])->k, t, row);
    } else {
        PyObject *const names[N_TRACE - 1] = {st->str_phase, st->str_trunk_deg, st->str_knee_deg, st->str_travel_L, st->str_ok};
        double tmp[N_TRACE];
        tmp[0] = t;
        for (int k = 0; k < N_TRACE - 1; k++) {
            if (attr_double(args[1], names[k], &tmp[k + 1]) < 0) return NULL;
        }
        memcpy(row, tmp, sizeof tmp);
    }
    self->next += 1;
    if (self->next == self->capacity) {
        self->next = 0;
        self->full = 1;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(ring_rows_doc, "rows() -> bytearray\n--\n\nThe kept rows oldest first, as float64 bytes (6 per row).");

static PyObject *ring_rows(PyObject *op, PyObject *unused) {
    (void)unused;
    RingObject *self = (RingObject *)op;
    size_t row_bytes = N_TRACE * sizeof(double);
    if (!self->full) {
        return PyByteArray_FromStringAndSize((const char *)self->buf, (Py_ssize_t)(self->next * row_bytes));
    }
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(self->capacity * row_bytes));
    if (out == NULL) return NULL;
    char *dst = PyByteArray_AS_STRING(out);
    size_t older = (size_t)(self->capacity - self->next) * row_bytes;
    memcpy(dst, self->buf + self->next * N_TRACE, older);
    memcpy(dst + older, self->buf, (size_t)self->next * row_bytes);
    return out;
}

static PyMethodDef ring_methods[] = {
    {"append", (PyCFunction)(void (*)(void))ring_append, METH_FASTCALL, ring_append_doc},
    {"rows", ring_rows, METH_NOARGS, ring_rows_doc},
    {NULL, NULL, 0, NULL},
};

PyDoc_STRVAR(ring_doc, "TraceRing(capacity=4096)\n--\n\n"
             "The last `capacity` trace rows of a live detector, for grading (base type; rows() gives bytes).");

static PyType_Slot ring_slots[] = {
    {Py_tp_new, (void *)ring_new},
    {Py_tp_dealloc, (void *)ring_dealloc},
    {Py_tp_methods, ring_methods},
    {Py_tp_doc, (void *)ring_doc},
    {0, NULL},
};

static PyType_Spec ring_spec = {
    .name = "station.hinge._speedups.TraceRing",
    .basicsize = sizeof(RingObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = ring_slots,
};

/* ------------------------------------------------------------------ module */

/* Where each kernel setting sits in station.hinge._layout.PARAM_NAMES; the layout's codes must
 * be the ones compiled in (a stale build is refused, and the Python reference runs instead). */
static int load_layout(PyObject *module, ModState *st) {
    PyObject *layout = PyImport_ImportModule("station.hinge._layout");
    if (layout == NULL) return -1;
    PyObject *names = PyObject_GetAttrString(layout, "PARAM_NAMES");
    int rc = -1;
    if (names == NULL) goto done;
    if (!PyTuple_Check(names)) {
        PyErr_SetString(PyExc_ImportError, "station.hinge._layout.PARAM_NAMES must be a tuple");
        goto done;
    }
    st->n_params = PyTuple_GET_SIZE(names);
    if (st->n_params > 256) {
        PyErr_SetString(PyExc_ImportError, "station.hinge._layout.PARAM_NAMES has more than 256 names");
        goto done;
    }
    for (int k = 0; k < N_USED; k++) {
        st->param_index[k] = -1;
        for (Py_ssize_t i = 0; i < st->n_params; i++) {
            PyObject *name = PyTuple_GET_ITEM(names, i);
            if (PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, USED_NAMES[k]) == 0) {
                st->param_index[k] = i;
                break;
            }
        }
        if (st->param_index[k] < 0) {
            PyErr_Format(PyExc_ImportError,
                         "the C kernel reads the setting '%s', which HingeSettings no longer has: "
                         "rebuild it from this checkout (pip install -e .)", USED_NAMES[k]);
            goto done;
        }
    }
    static const struct { const char *name; long value; } codes[] = {
        {"PH_ABSENT", PH_ABSENT}, {"PH_TOP", PH_TOP}, {"PH_HINGE", PH_HINGE}, {"PH_KNEE_BEND", PH_KNEE_BEND},
        {"PH_BOTTOM", PH_BOTTOM}, {"PH_ASCENT", PH_ASCENT}, {"EV_SET_ENDED", EV_SET_ENDED},
        {"EV_SET_STARTED", EV_SET_STARTED}, {"EV_REP", EV_REP}, {"EV_PHASE", EV_PHASE}, {"OK_TRUNK", OK_TRUNK},
        {"OK_KNEE", OK_KNEE}, {"OK_TRAVEL", OK_TRAVEL}, {"OK_SIDE", OK_SIDE},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        PyObject *value = PyObject_GetAttrString(layout, codes[i].name);
        long got = value ? PyLong_AsLong(value) : -1;
        Py_XDECREF(value);
        if (PyErr_Occurred()) goto done;
        if (got != codes[i].value) {
            PyErr_Format(PyExc_ImportError, "station.hinge._layout.%s is %ld, the C kernel was built with %ld: "
                         "rebuild it from this checkout (pip install -e .)", codes[i].name, got, codes[i].value);
            goto done;
        }
    }
    rc = 0;
    PyObject *used = PyTuple_New(N_USED);
    if (used == NULL) {
        rc = -1;
        goto done;
    }
    for (int k = 0; k < N_USED; k++) {
        PyObject *s = PyUnicode_FromString(USED_NAMES[k]);
        if (s == NULL) {
            Py_DECREF(used);
            rc = -1;
            goto done;
        }
        PyTuple_SET_ITEM(used, k, s);
    }
    if (PyModule_AddObject(module, "KERNEL_PARAMS", used) < 0) {
        Py_DECREF(used);
        rc = -1;
    }
done:
    Py_XDECREF(names);
    Py_DECREF(layout);
    return rc;
}

#define NAME_INIT(name) if ((st->str_##name = PyUnicode_InternFromString(#name)) == NULL) return -1;
#define NAME_VISIT(name) Py_VISIT(st->str_##name);
#define NAME_CLEAR(name) Py_CLEAR(st->str_##name);

static int module_exec(PyObject *module) {
    ModState *st = (ModState *)PyModule_GetState(module);
    st->core_type = NULL;
    st->ring_type = NULL;
    NAMES(NAME_INIT)
    if (load_layout(module, st) < 0) return -1;
    st->core_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &core_spec, NULL);
    if (st->core_type == NULL) return -1;
    if (PyModule_AddType(module, st->core_type) < 0) return -1;
    st->ring_type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &ring_spec, NULL);
    if (st->ring_type == NULL) return -1;
    if (PyModule_AddType(module, st->ring_type) < 0) return -1;
    if (PyModule_AddIntConstant(module, "N_TRACE", N_TRACE) < 0) return -1;
    if (PyModule_AddIntConstant(module, "N_EVENT", N_EVENT) < 0) return -1;
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg) {
    ModState *st = (ModState *)PyModule_GetState(module);
    if (st) {
        Py_VISIT(st->core_type);
        Py_VISIT(st->ring_type);
        NAMES(NAME_VISIT)
    }
    return 0;
}

static int module_clear(PyObject *module) {
    ModState *st = (ModState *)PyModule_GetState(module);
    if (st) {
        Py_CLEAR(st->core_type);
        Py_CLEAR(st->ring_type);
        NAMES(NAME_CLEAR)
    }
    return 0;
}

static void module_free(void *module) { module_clear((PyObject *)module); }

PyDoc_STRVAR(hypot_doc, "hypot(x, y) -> float\n--\n\nThe kernel's hypot: math.hypot(x, y) to the last bit (tests check that).");

static PyObject *module_hypot(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) return PyErr_Format(PyExc_TypeError, "hypot() takes 2 arguments, got %zd", nargs);
    double x = PyFloat_AsDouble(args[0]);
    if (x == -1.0 && PyErr_Occurred()) return NULL;
    double y = PyFloat_AsDouble(args[1]);
    if (y == -1.0 && PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(py_hypot(x, y));
}

static PyMethodDef module_methods[] = {
    {"hypot", (PyCFunction)(void (*)(void))module_hypot, METH_FASTCALL, hypot_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, (void *)module_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "station.hinge._speedups",
    .m_doc = "C port of the hinge detector's per-frame kernel (the Python reference is the spec).",
    .m_size = sizeof(ModState),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModuleDef_Init(&module_def); }
