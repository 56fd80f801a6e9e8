"""The status page in headless Debian Chromium against a real `station demo`: it updates live.

Saves the screenshots the README shows (docs/status-page.png, docs/status-page-phone.png);
STATION_SCREENSHOT_DIR sends them elsewhere.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize

from paths import REPO_DIR
from test_pipeline import get_json, start_station, station_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
WALL: ViewportSize = {"width": 1920, "height": 1080}
PHONE: ViewportSize = {"width": 390, "height": 844}
LIVE_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (setup.sh installs it)"),
]


SECRET = "browser-test-admin-secret-0123456789"


@pytest.fixture
def demo_url(tmp_path: Path) -> Iterator[str]:
    # 10 fps of simulated time at 4x: reps come quickly and the page shows a Pi-like 40 frames/s.
    secret_file = tmp_path / "admin.secret"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o600)  # setup.sh's mode: the station refuses a secret others can read
    env = station_env(tmp_path, STATION_ADMIN_SECRET_FILE=str(secret_file))
    proc, url = start_station(["demo", "--port", "0", "--fps", "10", "--speed", "4", "--seed", "7"], env)
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert proc.returncode == 0


def screenshot_dir() -> Path:
    path = Path(os.environ.get("STATION_SCREENSHOT_DIR", REPO_DIR / "docs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_page_shows_reps_and_grades_changing_live(demo_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=WALL)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            external: list[str] = []
            page.on("request", lambda r: external.append(r.url) if not r.url.startswith(demo_url) else None)
            page.goto(demo_url)
            page.wait_for_selector('#link[data-link="live"]', timeout=10_000)
            page.evaluate("window.__sameDocument = true")  # gone if the page ever reloads

            seen_reps: set[str] = set()
            seen_grades: set[str] = set()
            deadline_ms = LIVE_TIMEOUT_MS
            while (len(seen_reps) < 3 or len(seen_grades) < 2) and deadline_ms > 0:
                seen_reps.add(page.inner_text("#reps"))
                seen_grades.add(page.inner_text("#last-n") + (page.get_attribute("#key-unlock_knees", "data-ok") or ""))
                page.wait_for_timeout(250)
                deadline_ms -= 250
            assert len(seen_reps) >= 3, f"rep count never changed: {seen_reps}"
            assert len(seen_grades) >= 2, f"grades never changed: {seen_grades}"
            assert page.evaluate("window.__sameDocument") is True  # live over SSE, no reload

            for key in ("unlock_knees", "hips_back_chest_down", "knees_after_hips"):
                assert page.get_attribute(f"#key-{key}", "data-ok") in ("pass", "fail", "unknown")
                assert page.inner_text(f"#key-{key} .key-cue").strip()
            assert page.locator("#sets tr:not(.empty)").count() >= 1
            assert page.get_attribute("#state", "data-state") in ("idle", "tracking")
            assert "simulated lifter" in page.inner_text("#health")
            assert "History\nsaved" in page.inner_text("#health"), "the history row says whether reps are saved"
            assert page.locator(".led-group").count() == 5  # three keys, rep, status
            drawn = page.evaluate(
                "(() => { const c = document.getElementById('figure');"
                " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()"
            )
            assert drawn > 500, "the stick figure canvas is empty"
            page.screenshot(path=str(screenshot_dir() / "status-page.png"))
            staff_end_a_set_and_name_its_lifter(page)

            phone = browser.new_page(viewport=PHONE, device_scale_factor=2)
            phone.goto(demo_url)
            phone.wait_for_selector('#link[data-link="live"]', timeout=10_000)
            phone.wait_for_timeout(1500)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width} px)"
            phone.screenshot(path=str(screenshot_dir() / "status-page-phone.png"), full_page=True)

            assert not problems, problems  # includes CSP violations: no inline code slipped in
            assert not external, f"the page asked for something off the station: {external}"
        finally:
            browser.close()


def staff_end_a_set_and_name_its_lifter(page: Page) -> None:
    """Staff unlock the panel with the secret, end the open set and name its lifter; the page shows both."""
    page.click("#admin summary")
    page.fill("#secret", SECRET)
    page.click("#unlock button")
    page.wait_for_selector("#staff-tools:not([hidden])", timeout=10_000)
    assert page.evaluate("sessionStorage.getItem('station-admin-secret')") == SECRET
    page.wait_for_selector("#setting-web\\.title", timeout=10_000)  # the settings form came from /api/config
    page.wait_for_function(
        "() => document.getElementById('set-n').textContent.trim() !== '–'"
        " && !/ended|discarded/.test(document.getElementById('set-n').textContent)",
        timeout=LIVE_TIMEOUT_MS,
    )
    page.click("#end-set")
    page.wait_for_function("() => /^Set \\d+ ended \\(\\d+ reps\\)\\.$/.test(document.getElementById('admin-msg').textContent)", timeout=10_000)
    ended_n = int(page.inner_text("#admin-msg").split()[1])
    sets: list[dict[str, Any]] = get_json(page.url + "api/sets")["sets"]  # type: ignore[assignment]
    ended = [s for s in sets if s["n"] == ended_n]
    assert ended and not ended[-1]["active"] and not ended[-1]["discarded"]
    page.select_option("#name-set", str(ended[-1]["id"]))
    page.fill("#name-input", "Alex")
    page.click("#name-form button")
    page.wait_for_function("() => document.getElementById('admin-msg').textContent === 'Set named: Alex.'", timeout=10_000)
    page.wait_for_selector("#sets td.who:text-is('Alex')", timeout=10_000)  # the Today table, pushed live
    sets = get_json(page.url + "api/sets")["sets"]  # type: ignore[assignment]
    named = [s for s in sets if s["id"] == ended[-1]["id"]]
    assert named[0]["lifter"] == "Alex"  # stored in the history
    page.screenshot(path=str(screenshot_dir() / "status-page-staff.png"), full_page=True)
    page.click("#lock")
    assert page.evaluate("sessionStorage.getItem('station-admin-secret')") is None
