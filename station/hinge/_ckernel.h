/* The C port of the hinge detector's per-frame kernel: its state, settings and constants, and
 * what its two halves share. _cfilter.c mirrors station/hinge/_filter.py, _ckernel.c mirrors
 * station/hinge/_reference.py (the specification), in the same order of floating-point
 * operations, so that C and Python agree to the last bit; _speedups.c binds it to Python.
 * Plain C11 over doubles, no Python objects; compile with -ffp-contract=off (a fused
 * multiply-add would round differently from Python).
 */
#ifndef STATION_HINGE_CKERNEL_H
#define STATION_HINGE_CKERNEL_H

#include "_cmath.h"

#define N_KP 51 /* 17 keypoints x [y, x, score] */
#define N_JOINTS 4
#define N_TRACE 6
#define N_EVENT 15

enum { SHOULDER, HIP, KNEE, ANKLE };
enum { PH_ABSENT, PH_TOP, PH_HINGE, PH_KNEE_BEND, PH_BOTTOM, PH_ASCENT };
enum { EV_SET_ENDED = 1, EV_SET_STARTED = 2, EV_REP = 4, EV_PHASE = 8 };
enum { OK_TRUNK = 1, OK_KNEE = 2, OK_TRAVEL = 4, OK_SIDE = 8 };

#define PI 3.141592653589793 /* math.pi */
#define DEG (180.0 / PI)
#define TWO_PI (2.0 * PI)
#define DEPTH_STEP_DEG 1.0 /* a descent makes progress when the trunk deepens by more than this */
#define KNEE_STEP_DEG 4.0  /* ... or the knees by more than this */
#define BOTTOM_STEP 5.0    /* the bottom is dated at the last deepening by 5x these steps */
enum { NOSE = 0, L_EAR = 3, R_EAR = 4 };

/* The settings the kernel reads, by name; their positions in the params array come from
 * station.hinge._layout.PARAM_NAMES when the module loads (grading-only settings are skipped). */
#define KERNEL_PARAMS(X)                                                                           \
    X(min_score) X(side_window_s) X(facing_window_s) X(joint_gate_L) X(max_speed_L_s)              \
    X(reacquire_s) X(hold_s) X(hold_ankle_s) X(ankle_rest_s) X(stance_change_L) X(absent_s)        \
    X(euro_min_cutoff_hz) X(euro_beta) X(euro_d_cutoff_hz) X(oblique_view_ratio)                   \
    X(side_switch_ratio) X(turn_settle_s) X(leg_calib_s)                                           \
    X(side_view_max) X(top_deg) X(top_knee_deg) X(hinge_deg) X(bottom_min_deg)                     \
    X(ascent_drop_deg) X(knee_bend_deg) X(bottom_still_s) X(onset_margin_deg) X(top_base_s)        \
    X(min_descent_s) X(min_ascent_s) X(min_rep_s) X(top_enter_s) X(confirm_s) X(first_confirm_s)   \
    X(turn_away_s) X(floor_shoulder_L) X(floor_lowered_within_s) X(lowered_drop_L) X(walk_L)       \
    X(plant_hold_s) X(feet_smooth_s) X(body_lock_L) X(set_rest_s) X(set_leave_s)

#define PARAM_ENUM(name) K_##name,
enum { KERNEL_PARAMS(PARAM_ENUM) N_USED };
#define P(c, name) ((c)->p[K_##name]) /* a setting, by its HingeSettings name */

/* The reference's JointTracks and Core, field for field (the tests compare every one). */
typedef struct {
    double x[N_JOINTS], y[N_JOINTS], vx[N_JOINTS], vy[N_JOINTS], t_seen[N_JOINTS];
    int tracked[N_JOINTS];
    double rej_x[N_JOINTS], rej_y[N_JOINTS], t_rej[N_JOINTS], t_far[N_JOINTS];
    int near_left, frame_jump;
    int oblique; /* the view is turned from side-on: the far labels are the other limbs */
    int near_settled; /* the near side cannot have changed lately: a far label off its track is the other limb */
    long long n_reinit;
    double lock_x, lock_r; /* during a set: the lifter's spot (feet x, px) and how far from it a track may restart */
    double plant_x, plant_r; /* during a rep or a set: where the feet are planted (px) and how far from it an ankle may be seen */
    int off_plant;           /* the last frame's ankles were seen, all away from the plant */
    double t_off;            /* since when the ankles were seen off the plant and not back on it, -1 if not */
} Tracks;

typedef struct {
    double p[N_USED];
    Tracks tr;
    double width_px, height_px, t_prev, side_l, side_r;
    int near_left;
    double facing_acc;
    int facing;
    double leg_px, torso_px, view_ratio, trunk_deg, knee_deg, travel_L;
    double shoulder_height_L; /* shoulders above the planted ankle, in leg lengths (~1.5 standing) */
    double t_front; /* when the lifter was last seen front-on (or the first frame) */
    int front_prev; /* whether the previous frame showed the lifter front-on */
    double t_turned; /* when two frames running last showed the lifter front-on (a turn, not a label's jump) */
    int ok, held;
    double hip_x, ankle_x, feet_x, pelvis_x;
    int feet_seen;
    double rest_x, rest_y; /* at the bar: the planted ankle, the mean of its track (px) ... */
    long long rest_n;      /* ... over this many observations since it settled there (0: none) ... */
    double rest_feet_x;    /* ... and where the feet were then (feet_x) */
    int phase;
    double t_present, t_upright, top_base_deg, t_onset, knee_onset_deg, ankle_x_onset, onset_shoulder_L;
    double max_trunk_deg, t_max_trunk, ref_trunk_deg, ref_knee_deg, t_progress, t_bottom;
    double deep_trunk_deg, deep_knee_deg, t_deep;
    double low_shoulder_L; /* the shoulders' lowest height since the hinge onset */
    int pend;
    double pend_t_start, pend_t_bottom, pend_t_lockout, pend_hip_x, pend_ankle_x;
    int pend_side_on; /* the lifter stood side-on (not seen front-on for turn_settle_s) at the lockout */
    int pend_floor;   /* the rep's bottom was at the floor (shoulders below floor_shoulder_L) */
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

/* L in pixels; before the legs were measured, 1.6 torsos, or a guess from the frame size. */
static inline double scale_of(const Kernel *c) {
    if (c->leg_px > 0.0) return c->leg_px;
    if (c->torso_px > 0.0) return 1.6 * c->torso_px;
    return 0.3 * py_max(c->width_px, c->height_px);
}

/* Trunk upright and knees nearly straight. */
static inline int standing(const Kernel *c) {
    return c->trunk_deg <= P(c, top_deg) && fabs(c->knee_deg) <= P(c, top_knee_deg);
}

/* The TRACE_COLUMNS row of the frame just stepped (what grading reads). */
static inline void trace_row(const Kernel *c, double t, double *out) {
    out[0] = t;
    out[1] = (double)c->phase;
    out[2] = c->trunk_deg;
    out[3] = c->knee_deg;
    out[4] = c->travel_L;
    out[5] = (double)c->ok;
}

void hinge_init(Kernel *c, double width_px, double height_px);          /* Core.__init__ */
int hinge_step(Kernel *c, const double *v, double t);                    /* Core.step: bits, -1 = c->err */
int hinge_finish(Kernel *c);                                             /* Core.finish */
void hinge_event_record(const Kernel *c, double frame, int bits, double t, double *out); /* EVENT_COLUMNS */
void hinge_fuse_and_filter(Kernel *c, const double *v, double t, int near_left, double scale_px); /* _filter.py */

#endif
