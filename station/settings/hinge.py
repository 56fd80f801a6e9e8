"""[hinge] thresholds of the phase detector and the three keys (see HINGE_SPEC.md).

Units are in the names: `_deg` degrees, `_s` seconds, `_hz` hertz, `_L` multiples of the
lifter's own leg length L (hip-knee + knee-ankle, measured standing), so that every value
means the same for a lifter near or far from the camera and at any frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class HingeSettings:
    """Every threshold of the detector, with its default and the reason for it."""

    # --- keypoint filtering -------------------------------------------------------------
    min_score: float = 0.3  # HINGE_SPEC: never trust a keypoint scored below ~0.3
    side_window_s: float = 2.0  # near side = larger summed scores over ~2 s: long enough to outvote per-frame L/R swaps, short enough to follow a lifter who turns round between sets
    facing_window_s: float = 1.5  # facing votes decay over ~1.5 s: one rep's worth of evidence, immune to a single mislabelled head frame
    joint_gate_L: float = 0.25  # a joint further than this (plus speed allowance) from its prediction is an outlier: several times the jitter (~0.03 L), well below the "large part of the body" jumps seen on real clips
    max_speed_L_s: float = 2.5  # fastest a joint moves in a lift (~2.2 m/s for 0.9 m legs; bar speed is ≤ ~1.5 m/s): grows the gate with the time since a joint was last seen
    reacquire_s: float = 0.35  # a jump that persists this long is real (camera cut, lifter moved): restart tracking there; longer than any single-frame glitch at 8 fps
    hold_s: float = 0.5  # a joint unseen this long no longer counts as measured (its quantities turn invalid); ~4 frames at 8 fps
    hold_ankle_s: float = 2.0  # ankles stay planted through a lift and plates hide the shins, so a last-seen ankle stays usable longer
    ankle_rest_s: float = 2.0  # at the bar the feet stay planted: the ankle in the knee angle and the hips' travel is the mean of its track since it settled, a moving mean over ~2 s once longer. MoveNet's ankle wanders by 1-2% of L from frame to frame (the plates hide the shins) while the joint stays put; 2 s still follows a shift too small to count as a step
    stance_change_L: float = 0.1  # ... and starts again once the feet (both ankles' mean) move this far, or the ankle's track lies walk_L from the mean: a stance adjustment or a step (~0.1 L and more), while that mean wobbles by ~0.02 L
    absent_s: float = 2.0  # no shoulder or hip seen for this long = nobody there (phase absent); bridges dropouts of a whole second on dark clips
    euro_min_cutoff_hz: float = 1.2  # One Euro filter at rest: removes pixel jitter, keeps the ~0.3-1 Hz motion of a rep (lag ~0.13 s)
    euro_beta: float = 1.5  # cutoff rises by this many Hz per L/s of joint speed, so fast pulls are not smeared
    euro_d_cutoff_hz: float = 1.0  # smoothing of the speed estimate that drives the adaptive cutoff (One Euro paper default)
    oblique_view_ratio: float = 0.2  # from this view ratio (~15° of yaw) the chest's drop, which no yaw foreshortens, supplements the trunk angle, fully from twice it; side-on (~0.1) the noisier drop is left out
    turn_settle_s: float = 1.0  # turned from side-on, a far label off its track shows the other limb and the near one is kept whatever the scores, once the near side is settled: during a rep (no lifter turns round then), or this long after the lifter was last seen front-on (turning round swaps the near side, and the side vote takes about a second to follow)
    side_switch_ratio: float = 1.25  # the far side takes over as near only when its windowed scores beat the near side's by 25 %: no flapping seen from the front, where both sides score alike
    leg_calib_s: float = 1.0  # leg length L and torso length follow standing frames with this time constant
    side_view_max: float = 0.55  # left-right spread of shoulders and hips / torso length grows as sin(yaw), ~0.7 seen from the front: above 0.55 (~50° of yaw) hip travel is too foreshortened to grade, keys become null

    # --- phases, reps and sets -----------------------------------------------------------
    top_deg: float = 20.0  # trunk at or below this = lockout/standing (real lockouts read 0-10°; +10° for lean, lag and noise)
    top_knee_deg: float = 35.0  # knees at or below this flexion count as standing (soft knee 10-25°; a squat or a floor pull is 70°+)
    hinge_deg: float = 25.0  # trunk above this = a descent has begun; 5° above top_deg so jitter cannot toggle
    bottom_min_deg: float = 40.0  # HINGE_SPEC: a real bottom has the trunk at ≥ ~40°; a partial dip never reaches it
    ascent_drop_deg: float = 10.0  # trunk this far back up from its deepest = ascent; hysteresis well above filtered jitter (~2°)
    knee_bend_deg: float = 15.0  # knees bent this much beyond their flexion at hinge onset = knee-bend phase
    bottom_still_s: float = 0.25  # descent with no new depth (±1°) for this long = bottom (a floor pause or an RDL turn)
    onset_margin_deg: float = 3.0  # hinge onset = last moment the trunk was within this of its lockout angle (above filtered jitter)
    top_base_s: float = 0.5  # the lockout angle is a running mean over ~0.5 s of still frames at the top (a running minimum, biased low by jitter, would date onsets too early)
    min_descent_s: float = 0.3  # onset to bottom faster than this is a glitch, not a lift: a bar falling freely from hips to floor takes ~0.32 s
    min_ascent_s: float = 0.15  # bottom to lockout in under ~one frame at 8 fps is a glitch (a noisy bottom may be dated late, so kept short)
    min_rep_s: float = 0.8  # onset to lockout faster than this is a glitch: a descent and an explosive pull take over a second
    top_enter_s: float = 0.3  # standing upright this long before a lifter counts as present at the top
    confirm_s: float = 0.8  # a rep counts once the feet stay put this long after lockout (or the next rep begins)
    first_confirm_s: float = 3.0  # ... but a set's first rep waits longer: bending once for a plate and walking off starts the walk within ~3 s of standing up, a lifter after a single stays put longer
    turn_away_s: float = 1.5  # ... and is dropped if the lifter, side-on at its lockout, is seen front-on within 1.5 s after it: a loaded bar lies across the camera's line of sight and is lowered or dropped before anyone turns (that takes longer, and a lowering to a real bottom confirms the rep), while someone who bent for a plate turns to walk off within ~1.3 s of standing up
    floor_shoulder_L: float = 1.05  # a bottom with the shoulders below 1.05 L above the ankles is a lift from the floor: the hands hang an arm's length (~0.68 L) below the shoulders, so the bar is then below ~3/4 of the shin's height, about where a bar on the floor sits (45 cm plates hold it at mid-shin, ~0.25 L up: shoulders ~0.9 L); an RDL turns back with the bar near the knees (shoulders ~1.1 L and up), and one as deep as a bar on the floor is taken for a floor rep
    floor_lowered_within_s: float = 10.0  # a rep from the floor counts once the bar goes back down (HINGE_SPEC: floor -> lockout -> floor) within 10 s of its lockout: lifters set the last rep down and stand up without the bar, which is not a rep, and nobody holds a loaded bar at lockout that long; 0 = count at lockout, for a platform where lifters drop the bar from lockout
    lowered_drop_L: float = 0.15  # ... and the bar has gone back down once the next descent reaches a real bottom with the shoulders 0.15 L below where they stood at its onset: tipping the trunk to 40° lowers them by at least torso x (1 - cos 40°) ~ 0.14 L with the hips held still (a deadlift's lowering ~0.6 L), while a lean or a misread trunk angle while walking off leaves them within ~0.1 L
    body_lock_L: float = 1.0  # during a set the lifter stays on the spot: a body more than ~1 L from the lifter's feet (a bent lifter spans ~0.7 L) is someone else, and no track restarts on it
    feet_smooth_s: float = 0.3  # where the lifter stands = mean x of both ankles (and both hips), smoothed over ~0.3 s: label swaps and side switches cannot move it
    walk_L: float = 0.3  # ankles travelling this far during a rep or its confirmation = walking, not lifting (a step is ~0.7 L; a stance adjustment ~0.1 L); during a rep or a set, a frame whose ankles are all seen this far from where the lifter's feet are planted shows someone else (a person passing in front) or the lifter stepping off, and is left out
    plant_hold_s: float = 0.5  # such frames are left out for at most 0.5 s since the feet were last seen planted: someone walking past at 1-1.5 m/s covers the lifter's feet for about that long (MoveNet jumps back and forth between the two bodies meanwhile); ankles away for longer mean the lifter stepped to a new spot (or the spot was misread) and are followed again, and a pending rep whose feet are still away then is dropped (walked off)
    set_rest_s: float = 30.0  # HINGE_SPEC: a rest longer than ~30 s ends the set
    set_leave_s: float = 5.0  # lifter gone this long ends the set at once (longer than a camera cut or a walk behind the rack)

    # --- grading the three keys (once per rep, in Python; the per-frame kernels never read these) ---
    unlock_min_deg: float = 8.0  # key 1: knee flexion at hinge onset must exceed this (HINGE_SPEC ~8°; soft knee 10-25°, locked ~0°)
    onset_window_s: float = 0.4  # key 1: the knee flexion at onset is read over at least the hinge's first 0.4 s (4 frames at 8 fps against the jitter)
    onset_pre_s: float = 0.2  # key 1: ... and over the still 0.2 s before onset: the knees are unlocked by then (a lifter unlocks, then hinges), while a longer look back would reach the locked lockout
    onset_max_s: float = 1.2  # key 1: ... and on while the knees hold, up to the wall point or 1.2 s: MoveNet's knee error drifts over ~0.5 s, so a window of a second or more averages it instead of sampling it
    knee_hyperextension_deg: float = 10.0  # knee flexion below -10° is a mislabelled knee, not a knee: real knees hyperextend by 5° at most, so such frames are left out
    onset_lookback_s: float = 2.0  # grading re-dates the hinge onset within 2 s before the detector's: long enough to undo a per-frame onset marked while the trunk still swayed at the top, short of the previous rep's lift
    onset_rise_deg: float = 10.0  # the hinge's rise begins where the (smoothed) trunk last sat within 10° of its lowest before the bottom: above a standing lifter's sway (±3°), far below any bottom (≥ 40°)
    onset_rise_L: float = 0.05  # ... or where the hips last sat within 0.05 L of their lockout (2-3x their jitter) before going back, if that came first: an arched hinge moves the hips before the trunk
    onset_margin_L: float = 0.015  # ... still = within 0.015 L of the hips' level (their filtered jitter), as onset_margin_deg is for the trunk
    onset_still_s: float = 1.0  # ... and the onset is the last moment within onset_margin_deg (or twice its own jitter, on a noisy clip) of the trunk's median level over the 1 s before that rise: about the top pause of one rep
    smooth_s: float = 0.2  # grading smooths every angle and travel with a rolling median over 0.2 s (at least 3 frames, at 8 fps): it removes a 1-2 frame jump of a keypoint, yet is shorter than any phase of a rep (≥ 0.3 s)
    lockout_window_s: float = 1.0  # key 2: the hips' lockout position is the low fifth of hip travel in this window before onset (they may start back before the trunk tips, as in an arched hinge)
    wall_frac: float = 0.9  # key 2/3: the wall point is where the smoothed hip travel first reaches 90% of its robust maximum (90th percentile): the flat top of d is noisy, so its argmax wanders
    min_hip_travel_L: float = 0.07  # key 2: hips must really travel back (HINGE_SPEC ~0.1 L): bending over the feet moves them ≤ 0.04 L, even locked legs hinge ≥ 0.1 L; 0.07 L (~6 cm) also survives a 30° oblique view
    sync_max_gap: float = 0.25  # key 2: mean gap between the normalised progress of hips-back and chest-down; 0.25 = a quarter of the movement out of step
    min_wall_trunk_deg: float = 20.0  # key 2: by the wall point the chest must have come down at least this much (hips back with chest up = arched)
    early_knee_deg: float = 15.0  # key 3: knee flexion growing more than this while the hips travel to the wall = squatting the hinge (a good hinge adds 0-5°, a squat-like one 25°+)
    knee_check_frac: float = 0.8  # key 3: knee-per-travel and trunk-per-travel are fitted up to 80% of the hip travel, and the back reach is looked for from there on: the last stretch, where the hips slow and noise (and filter lag) blur the wall point by ~0.2 s, may already hold the knee bend or the reach that follows it
    knee_top_s: float = 0.4  # key 3: the knees' flexion at the top, where the early bend is counted from, is their median over the still 0.4 s before the hinge onset (3+ frames at 8 fps): key 1's reading runs on into the hinge while the knees hold, so an early bend lifts it
    knee_readings_apart_deg: float = 25.0  # key 3: the early bend's two readings (slope and change) err by σ ≈ 6° each on good reps and their difference by σ ≈ 5°; more than 25° apart, a mislabelled knee hit one, and the lower is kept: HINGE_SPEC's label swaps turn a knee of ~170° into ~60°, i.e. they read more flexion, never less than 0°
    knee_spike_deg: float = 8.0  # key 3: a knee frame this far off the median of the frames around it is a bump (one label's jump, spread over 2-3 frames by the per-frame filter) and is left out of the knee-per-travel fit: the median of a monotone run is its centre, so a real bend, however fast, is kept; well above the filtered jitter (~3°)
    spike_window_s: float = 1.0  # key 3: ... around it = within +-0.5 s: 9 frames at 8 fps, where a bump of up to 3 frames is a minority
    slope_min_travel_L: float = 0.05  # key 3: knee-per-travel slopes come from pairs of frames at least 0.05 L apart in hip travel (~2x its jitter), so noise alone does not make a slope
    slope_min_pairs: float = 6.0  # key 3: fewer such pairs than this (a hinge of 2-3 frames) and the knee bend is read at the wall point and onset instead
    back_reach_deg: float = 15.0  # key 3: trunk tipping more than this after the wall point beyond what the hips and knees explain = reaching with the back (the lumbar spine only has ~15° to give, seed)
    reach_trunk_per_knee: float = 1.0  # key 3: sliding down the wall, the shins tip forward by about half the knee flexion and carry bar and shoulders forward with them: with shank/trunk ~0.85 the trunk tips up to ~0.43/cos(trunk)° per degree of knee flexion, 0.6° at a 45° trunk but 1.9° at 77° (a floor deadlift's bottom, HINGE_SPEC: 70-80°), so the allowed rate is this at 45° and grows as 1/cos(trunk) (wall.reach_per_knee): 1.6x the geometry's, for MoveNet's knee lag and jitter; tipping faster is the back
    knee_moving_deg: float = 8.0  # key 3: the knees have started bending (past the wall point; or, when the hips never travel, past onset) once their flexion exceeds its starting value by this: above filtered noise (~3°)
    bottom_hold_s: float = 1.0  # key 3: the knees may finish bending after the detector's bottom (dated at its last coarse deepening): the hips are followed up to 1 s further, until the ascent begins
    hip_smooth_s: float = 0.3  # key 3: the hips' least travel after the wall is read on rolling medians over 0.3 s: a hip keypoint jumping forward for 1-2 frames (0.25 s at 8 fps) is not the hips leaving the wall
    leave_wall_L: float = 0.07  # key 3: hips drifting forward more than this while the knees bend = leaving the wall (~6 cm: twice MoveNet's hip noise, half a real drift)
    min_coverage: float = 0.35  # a key is judged only if at least this share of the descent's frames measured it (bad clips: chain in 36-50%)
    knee_min_coverage: float = 0.2  # key 3: its knee readings are taken if at least this share of the descent's frames show the knees: the plates hide the shins whenever the hands are below the knees (the lower half of a deadlift's descent, HINGE_SPEC), and dropouts take more; each reading checks its own frames (slope pairs, a knee within smooth_s of the check point, knees within hold_s after the wall), so the share only keeps out a descent whose knees were all but unseen

def param_names() -> tuple[str, ...]:
    """Field names in declaration order: the layout of the flat params array of the core."""
    return tuple(f.name for f in fields(HingeSettings))
