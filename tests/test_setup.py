"""setup.sh: shellcheck clean, the Pi path as --dry-run prints it, the development path for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from station.models import load_manifest, sha256_of

from paths import MODEL_PATH, REPO_DIR

SETUP = REPO_DIR / "setup.sh"
MANIFEST = load_manifest(REPO_DIR / "models" / "manifest.toml")
DEFAULT = MANIFEST.default_entry()


def setup_sh(*args: str, cwd: Path = REPO_DIR, root: Path | None = None, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STATION_MODEL", "STATION_SETUP_ROOT", "VIRTUAL_ENV")}
    if root is not None:
        env["STATION_SETUP_ROOT"] = str(root)
    return subprocess.run(
        ["bash", str(cwd / "setup.sh"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s
    )


def commands(output: str) -> list[str]:
    return [line[2:] for line in output.splitlines() if line.startswith("+ ")]


def index_of(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


def test_shellcheck_clean() -> None:
    assert shutil.which("shellcheck"), "shellcheck is missing: install it (setup.sh does on a dev machine)"
    result = subprocess.run(["shellcheck", "--severity=style", str(SETUP)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_pi_dry_run_prints_the_whole_install_and_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = setup_sh("--pi", "--dry-run", root=root)
    assert result.returncode == 0, result.stderr
    cmds = commands(result.stdout)
    venv = f"{root}/opt/station/venv"
    apt = cmds[index_of(cmds, "apt-get install")]
    assert "python3-picamera2" in apt and "python3-numpy" in apt and "python3-lgpio" in apt
    assert "useradd --system --user-group" in cmds[index_of(cmds, "useradd")]
    assert cmds[index_of(cmds, "usermod")].endswith("--groups video,gpio station")
    assert f"/usr/bin/python3 -m venv --system-site-packages {venv}" in cmds
    # numpy is pinned to apt's version for every pip install into the venv.
    assert "echo numpy==" in cmds[index_of(cmds, "constraints.txt")]
    pip = cmds[index_of(cmds, "/bin/pip install")]
    assert f"--constraint {root}/opt/station/constraints.txt" in pip
    apt_python = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2] >= (3, 12))"], capture_output=True, text=True)
    runtime = "litert" if apt_python.stdout.strip() == "True" else "tflite"  # tflite-runtime has no wheels past 3.11
    assert f"{REPO_DIR}[{runtime}," in pip and "[dev]" not in pip and " -e " not in pip
    # No model given: the canonical URL, then the manifest's sha256 before the file is used.
    curl = cmds[index_of(cmds, "curl ")]
    assert DEFAULT.url in curl and "--fail" in curl
    check = index_of(cmds, "sha256sum --check")
    install = index_of(cmds, f"-o station -g station {root}/var/lib/station/models/{DEFAULT.file}.part")
    assert DEFAULT.sha256 in cmds[check] and index_of(cmds, "curl ") < check < install
    assert f"config --defaults > \"{root}/etc/station/station.toml\"" in cmds[index_of(cmds, "config --defaults")]
    secret = cmds[index_of(cmds, "admin.secret\"")]
    assert "umask 077" in secret and "secrets.token_urlsafe" in secret
    assert f"chmod 0600 {root}/etc/station/station.toml {root}/etc/station/admin.secret" in cmds
    unit = f"install -m 0644 {REPO_DIR}/systemd/station.service {root}/etc/systemd/system/station.service"
    tail = cmds[index_of(cmds, unit) :]
    assert tail == [
        unit,
        "systemctl daemon-reload",
        "systemctl enable station.service",
        "systemctl restart station.service",
        f"runuser -u station -- {venv}/bin/station doctor",
    ]
    # The unit runs what the venv provides.
    assert "ExecStart=/opt/station/venv/bin/station run" in (REPO_DIR / "systemd" / "station.service").read_text()
    assert list(root.iterdir()) == [], "a dry run created files"
    assert "nothing was changed" in result.stdout


def test_pi_rerun_keeps_config_secret_venv_and_model(tmp_path: Path) -> None:
    root = tmp_path / "root"
    conf = root / "etc/station"
    conf.mkdir(parents=True)
    (conf / "station.toml").write_text("[web]\nport = 9000\n")
    (conf / "admin.secret").write_text("kept\n")
    venv = root / "opt/station/venv"
    venv.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\ninclude-system-site-packages = true\n")
    models = root / "var/lib/station/models"
    models.mkdir(parents=True)
    shutil.copy(MODEL_PATH, models / DEFAULT.file)
    result = setup_sh("--pi", "--dry-run", "--no-apt", root=root)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "apt-get" not in out and " -m venv " not in out and "curl" not in out
    assert "config --defaults" not in out and "token_urlsafe" not in out
    assert f"model {models}/{DEFAULT.file} already installed and verified" in out
    cmds = commands(out)
    assert f"chmod 0600 {conf}/station.toml {conf}/admin.secret" in cmds  # permissions are still put right
    assert "systemctl restart station.service" in cmds  # the new code is started
    # A venv made without system site packages cannot see picamera2: it is made again.
    (venv / "pyvenv.cfg").write_text("include-system-site-packages = false\n")
    cmds = commands(setup_sh("--pi", "--dry-run", "--no-apt", root=root).stdout)
    assert cmds.index(f"rm -rf {venv}") < cmds.index(f"/usr/bin/python3 -m venv --system-site-packages {venv}")


def test_pi_dry_run_with_a_local_model(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    result = setup_sh("--pi", "--dry-run", "--no-apt", "--model", str(MODEL_PATH), root=root)
    assert result.returncode == 0, result.stderr
    cmds = commands(result.stdout)
    assert "curl" not in result.stdout
    assert f"install -m 0644 -o station -g station {MODEL_PATH} {root}/var/lib/station/models/{DEFAULT.file}" in cmds


def test_a_model_that_does_not_match_the_manifest_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / DEFAULT.file
    bad.write_bytes(MODEL_PATH.read_bytes()[:-1] + b"\0")  # same size, one byte changed
    result = setup_sh("--pi", "--dry-run", "--no-apt", "--model", str(bad), root=tmp_path / "root")
    assert result.returncode != 0
    assert f"{bad} is not a model listed in models/manifest.toml (sha256 {sha256_of(bad)})" in result.stderr
    assert DEFAULT.url in result.stderr and "Traceback" not in result.stderr
    missing = setup_sh("--dev", "--dry-run", "--model", str(tmp_path / "nope.tflite"))
    assert missing.returncode != 0 and "nope.tflite does not exist" in missing.stderr


def test_unknown_option_prints_usage() -> None:
    result = setup_sh("--fast")
    assert result.returncode == 2
    assert "unknown option --fast" in result.stderr and "usage: setup.sh" in result.stderr
    assert setup_sh("--help").stdout.startswith("usage: setup.sh")


def test_dev_dry_run() -> None:
    result = setup_sh("--dev", "--dry-run", "--no-apt", "--model", str(MODEL_PATH))
    assert result.returncode == 0, result.stderr
    cmds = commands(result.stdout)
    assert f"install -q -e '{REPO_DIR}[dev]'" in cmds[index_of(cmds, "/bin/pip install")]
    assert not any("systemctl" in c or "useradd" in c for c in cmds)


def _copy_checkout(dest: Path) -> None:
    """The files a fresh clone would have (tracked, plus new files not ignored), without venvs or builds."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_DIR, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        src = REPO_DIR / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _venv_borrowing_dependencies(checkout: Path) -> None:
    """A fresh .venv that sees this venv's third-party packages (not this project): pip then only builds the project."""
    subprocess.run([sys.executable, "-m", "venv", str(checkout / ".venv")], check=True, timeout=120)
    deps = checkout.parent / "deps"
    deps.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(("__editable__", "hinge_station", "station", "_hinge_station")) and entry.suffix != ".pth":
            (deps / entry.name).symlink_to(entry)
    purelib = next((checkout / ".venv" / "lib").glob("python3*/site-packages"))
    (purelib / "borrowed_deps.pth").write_text(f"{deps}\n")


@pytest.mark.slow
def test_dev_path_for_real_and_again(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    _copy_checkout(checkout)
    _venv_borrowing_dependencies(checkout)
    first = setup_sh("--no-apt", "--model", str(MODEL_PATH), cwd=checkout, timeout_s=600)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "development install ready" in first.stdout
    installed = checkout / "var" / "models" / DEFAULT.file
    assert sha256_of(installed) == DEFAULT.sha256
    python = checkout / ".venv" / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import station, station.store, station.hw.leds; print(station.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout.strip()  # fmt: skip
    assert where == str(checkout / "station" / "__init__.py")  # the editable install of this checkout
    version = subprocess.run([str(checkout / ".venv/bin/station"), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("station ")
    # Again: nothing to redo for the model; the install still succeeds.
    before = installed.stat().st_mtime_ns
    again = setup_sh("--no-apt", "--model", str(MODEL_PATH), cwd=checkout, timeout_s=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already installed and verified" in again.stdout and installed.stat().st_mtime_ns == before
    assert " -m venv " not in again.stdout
