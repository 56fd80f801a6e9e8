"""Camera-placement guidance from keypoint scores and geometry."""

from __future__ import annotations

import numpy as np
from webhelpers import HEIGHT_PX, SIDE_ON_PX, WIDTH_PX, face_on, pose

from station.web.guidance import PlacementAdvisor, frame_problems


def problems(kp: np.ndarray, brightness: float | None = None) -> set[str]:
    return set(frame_problems(kp, WIDTH_PX, HEIGHT_PX, 0.3, brightness))


def test_a_side_on_lifter_in_frame_is_fine() -> None:
    assert problems(pose(), brightness=120.0) == set()


def test_face_on_is_not_side_on() -> None:
    assert problems(face_on()) == {"not_side_on"}


def test_a_30_degree_oblique_view_is_still_accepted() -> None:
    # HINGE_SPEC: oblique views up to ~30 degrees must still be graded, so no warning there.
    kp = face_on()
    centre_x = 300 / WIDTH_PX
    kp[:, 1] = centre_x + (kp[:, 1] - centre_x) * np.sin(np.radians(30))
    assert "not_side_on" not in problems(kp)


def test_missing_feet_or_head_is_not_fully_in_frame() -> None:
    no_feet = pose()
    no_feet[15:17, 2] = 0.1
    assert problems(no_feet) == {"not_in_frame"}
    no_head = pose()
    no_head[0:5, 2] = 0.05
    assert problems(no_head) == {"not_in_frame"}
    cut_at_bottom = pose({**SIDE_ON_PX, 15: (479, 290), 16: (479, 286)})
    assert problems(cut_at_bottom) == {"not_in_frame"}


def test_all_scores_low_is_nobody_and_a_dark_picture_says_so() -> None:
    assert problems(pose(score=0.1)) == {"nobody"}
    assert problems(pose(score=0.1), brightness=12.0) == {"nobody", "too_dark"}


def test_a_tiny_lifter_is_too_small() -> None:
    small = {i: (200 + (y - 240) * 0.2, 300 + (x - 300) * 0.2) for i, (y, x) in SIDE_ON_PX.items()}
    assert problems(pose(small)) == {"too_small"}


def test_advice_needs_most_recent_frames_and_clears_when_fixed() -> None:
    advisor = PlacementAdvisor()
    t = 0.0
    for i in range(30):  # one face-on frame in ten: a glitch, not a placement problem
        advisor.update(face_on() if i % 10 == 0 else pose(), WIDTH_PX, HEIGHT_PX, t)
        t += 0.1
    assert advisor.advice() == []
    for _ in range(30):
        advisor.update(face_on(), WIDTH_PX, HEIGHT_PX, t)
        t += 0.1
    (advice,) = advisor.advice()
    assert advice["code"] == "not_side_on" and advice["level"] == "warning" and "beside the platform" in advice["message"]
    for _ in range(40):  # moved the camera: after the window the warning is gone
        advisor.update(pose(), WIDTH_PX, HEIGHT_PX, t)
        t += 0.1
    assert advisor.advice() == []


def test_darkness_outranks_the_geometry_it_causes() -> None:
    advisor = PlacementAdvisor()
    for i in range(20):
        advisor.update(pose(score=0.1), WIDTH_PX, HEIGHT_PX, i * 0.1, brightness=10.0)
    assert [a["code"] for a in advisor.advice()] == ["too_dark"]
    empty = PlacementAdvisor()
    for i in range(20):
        empty.update(pose(score=0.05), WIDTH_PX, HEIGHT_PX, i * 0.1)
    assert [(a["code"], a["level"]) for a in empty.advice()] == [("nobody", "info")]


def _advice_share(name: str) -> dict[str, float]:
    """Share of frames of a simulated scenario during which each piece of advice is shown."""
    from station.sim import scenario_matrix, simulate

    (scenario,) = [s for s in scenario_matrix() if s.name == name]
    recording, _ = simulate(scenario, 1)
    advisor = PlacementAdvisor()
    shown: dict[str, int] = {}
    for keypoints, t_s in zip(recording.keypoints, recording.t):
        advisor.update(keypoints, recording.width, recording.height, float(t_s))
        for advice in advisor.advice():
            shown[advice["code"]] = shown.get(advice["code"], 0) + 1
    return {code: n / len(recording.t) for code, n in shown.items()}


def test_simulated_views_get_the_right_advice() -> None:
    # MoveNet-like noise, hidden shins and walk-in/out included: a good side view raises no warning
    # (only "nobody" while the platform is empty), a front view and a far lifter do.
    assert set(_advice_share("good_deadlift")) <= {"nobody"}
    assert _advice_share("deadlift_front_view").get("not_side_on", 0) > 0.5
    assert _advice_share("small_far_lifter").get("too_small", 0) > 0.3
