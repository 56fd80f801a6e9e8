#!/usr/bin/env bash
# One-command install of the hinge station.
#
# On a Raspberry Pi (64-bit Raspberry Pi OS Bookworm or Trixie), as root: the appliance. Apt
# packages, a venv in /opt/station/venv that sees apt's picamera2 and numpy (and never upgrades
# numpy), the station with its C extension, the checked MoveNet model in /var/lib/station/models,
# /etc/station/station.toml and admin.secret (0600), the `station` service user and the systemd
# unit, enabled and started, then `station doctor`.
# Elsewhere: a development install in ./.venv with everything the tests need (apt packages too
# when run as root), and the model copied to ./var/models when one is given.
#
# Safe to run again: every step first looks at what is already there. --dry-run prints the
# commands that would run and changes nothing.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: setup.sh [--dry-run] [--pi | --dev] [--model PATH] [--no-apt]

  --dry-run     print every command that would change the machine; change nothing
  --pi          install the appliance (default on a Raspberry Pi)
  --dev         make a development install in ./.venv (default elsewhere)
  --model PATH  a MoveNet .tflite file you have (else STATION_MODEL; on a Pi the file is
                otherwise downloaded); it must match models/manifest.toml's sha256
  --no-apt      skip apt packages (you manage them yourself)
EOF
}

here=$(cd "$(dirname "$0")" && pwd)
dry_run=0
mode=""
model_src=${STATION_MODEL:-}
use_apt=1
# Tests point this at a scratch directory to see what a re-run would do on an installed system.
root=${STATION_SETUP_ROOT:-}

app_dir=$root/opt/station
pi_venv=$app_dir/venv
state_dir=$root/var/lib/station
conf_dir=$root/etc/station
unit_path=$root/etc/systemd/system/station.service
service_user=station

pi_apt=(python3-picamera2 python3-numpy python3-lgpio python3-venv python3-dev gcc curl ca-certificates)
dev_apt=(python3-venv python3-dev gcc curl ca-certificates chromium mosquitto openssl shellcheck valgrind systemd
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross)  # CI compiles the C kernel for the Pi (aarch64) too

say() { printf '==> %s\n' "$*"; }
done_say() { [ "$dry_run" -eq 1 ] || say "$@"; }  # reports a change, which a dry run did not make
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

# Print a command (quoted so that it can be pasted into a shell), then run it unless this is a dry run.
run() {
    local line="+" arg
    for arg in "$@"; do
        if [[ $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
            line+=" $arg"
        else
            line+=" '${arg//\'/\'\\\'\'}'"
        fi
    done
    printf '%s\n' "$line"
    [ "$dry_run" -eq 1 ] || "$@"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --pi) mode=pi ;;
        --dev) mode=dev ;;
        --model) [ $# -ge 2 ] || die "--model needs a path"; model_src=$2; shift ;;
        --model=*) model_src=${1#--model=} ;;
        --no-apt) use_apt=0 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; printf 'setup.sh: error: unknown option %s\n' "$1" >&2; exit 2 ;;
    esac
    shift
done

is_pi() { [ -r /proc/device-tree/model ] && tr -d '\0' </proc/device-tree/model | grep -q "Raspberry Pi"; }
[ -n "$mode" ] || { if is_pi; then mode=pi; else mode=dev; fi; }

if [ -n "$model_src" ]; then
    [ -f "$model_src" ] || die "model file $model_src does not exist: give the path of a MoveNet .tflite file"
    model_src=$(cd "$(dirname "$model_src")" && pwd)/$(basename "$model_src")
fi

# --- helpers ---------------------------------------------------------------------------------

# Install the apt packages that are missing; nothing (not even `apt-get update`) if none are.
apt_install() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "apt packages already installed"
        return
    fi
    run apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The manifest's entry for a model file (by sha256), as "file sha256"; the station's own code reads
# models/manifest.toml so setup.sh and `station doctor` can never disagree about a checksum.
manifest() {
    PYTHONPATH="$here" python3 - "$@" <<'PY'
import sys
from pathlib import Path
from station.models import load_manifest, sha256_of
m = load_manifest(Path(sys.argv[1]) / "models" / "manifest.toml")
if sys.argv[2] == "default":
    e = m.default_entry()
    print(e.file, e.sha256, e.url)
    sys.exit(0)
path = Path(sys.argv[2])
digest = sha256_of(path)
e = m.by_sha256(digest)
if e is None or path.stat().st_size != e.size_bytes:
    d = m.default_entry()
    sys.exit(f"setup.sh: error: {path} is not a model listed in models/manifest.toml (sha256 {digest}); "
             f"get {d.file} from {d.url} and pass it with --model")
print(e.file, e.sha256, e.url)
PY
}

# Put a checked model into $1 (a directory) owned by $2 (empty: the current user).
install_model() {
    local dest_dir=$1 owner=$2 file sha url dest
    if [ -n "$model_src" ]; then
        read -r file sha url < <(manifest "$here" "$model_src") || die "model check failed (see above)"
    else
        read -r file sha url < <(manifest "$here" default)
    fi
    dest=$dest_dir/$file
    if [ -f "$dest" ] && echo "$sha  $dest" | sha256sum --check --status; then
        say "model $dest already installed and verified"
        return
    fi
    run install -d -m 0755 ${owner:+-o "$owner" -g "$owner"} "$dest_dir"
    if [ -n "$model_src" ]; then
        run install -m 0644 ${owner:+-o "$owner" -g "$owner"} "$model_src" "$dest"
    else
        run curl --fail --location --retry 3 --silent --show-error --output "$dest.part" "$url"
        run sh -c "echo \"$sha  $dest.part\" | sha256sum --check --quiet || { rm -f \"$dest.part\"; exit 1; }"
        run install -m 0644 ${owner:+-o "$owner" -g "$owner"} "$dest.part" "$dest"
        run rm -f "$dest.part"
    fi
    done_say "model $file installed in $dest_dir (sha256 checked against models/manifest.toml)"
}

python_ok() { python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

# --- development install ---------------------------------------------------------------------

dev_install() {
    local venv=$here/.venv
    if [ "$use_apt" -eq 1 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        apt_install "${dev_apt[@]}"
    fi
    python_ok || die "python3 must be 3.11 or newer (found $(python3 --version 2>&1))"
    [ ! -L "$venv" ] || die "$venv links to the appliance's venv: remove the link (rm $venv) for a development install"
    [ -x "$venv/bin/python" ] || run python3 -m venv "$venv"
    run env PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install -q -e "${here}[dev]"
    if [ -n "$model_src" ]; then
        install_model "$here/var/models" ""
    fi
    done_say "development install ready: $venv/bin/station demo; $venv/bin/python -m pytest"
}

# --- Raspberry Pi appliance ------------------------------------------------------------------

pi_install() {
    local py=/usr/bin/python3 runtime numpy_version constraints=$app_dir/constraints.txt
    if [ "$dry_run" -eq 0 ]; then
        [ "$(id -u)" -eq 0 ] || die "the appliance install needs root: run sudo ./setup.sh"
        [ "$(uname -m)" = aarch64 ] || die "64-bit Raspberry Pi OS is needed (found $(uname -m)): the TFLite runtimes ship aarch64 wheels only"
    fi
    [ "$use_apt" -eq 0 ] || apt_install "${pi_apt[@]}"

    # The service user, in the groups that own the camera and GPIO device nodes.
    getent group video >/dev/null || run groupadd --system video
    getent group gpio >/dev/null || run groupadd --system gpio
    id -u "$service_user" >/dev/null 2>&1 ||
        run useradd --system --user-group --home-dir /var/lib/station --no-create-home \
            --shell /usr/sbin/nologin --comment "Hinge station" "$service_user"
    run usermod --append --groups video,gpio "$service_user"

    # A venv that sees apt's picamera2 (only packaged for apt) and numpy (built for it).
    if ! grep -qs "include-system-site-packages = true" "$pi_venv/pyvenv.cfg"; then
        [ ! -e "$pi_venv" ] || run rm -rf "$pi_venv"
        run install -d -m 0755 "$app_dir"
        run "$py" -m venv --system-site-packages "$pi_venv"
    fi
    # pip must never replace apt's numpy: picamera2 and simplejpeg are compiled against it.
    if ! numpy_version=$("$py" -c 'import numpy; print(numpy.__version__)' 2>/dev/null); then
        [ "$dry_run" -eq 1 ] || die "apt's numpy does not import with $py: sudo apt-get install --reinstall python3-numpy"
        numpy_version="APT_NUMPY_VERSION"  # not installed yet: apt would have installed it
    fi
    run sh -c "echo numpy==$numpy_version > \"$constraints\""
    # tflite-runtime has wheels up to Python 3.11 (Bookworm); ai-edge-litert covers 3.12+ (Trixie).
    if "$py" -c 'import sys; sys.exit(sys.version_info >= (3, 12))'; then runtime=tflite; else runtime=litert; fi
    run env PIP_DISABLE_PIP_VERSION_CHECK=1 "$pi_venv/bin/pip" install --upgrade --constraint "$constraints" \
        "${here}[${runtime},mqtt,metrics]"
    run install -D -m 0644 "$here/models/manifest.toml" "$pi_venv/share/station/models/manifest.toml"
    run install -m 0644 "$here/README.md" "$app_dir/README.md"
    [ -e "$here/.venv" ] || run ln -s "$pi_venv" "$here/.venv"  # so the README's .venv/bin/station works here too

    run install -d -m 0750 -o "$service_user" -g "$service_user" "$state_dir"
    install_model "$state_dir/models" "$service_user"

    # Configuration and the admin secret: written once, kept on re-runs, readable by the service only.
    run install -d -m 0755 "$conf_dir"
    [ -s "$conf_dir/station.toml" ] ||
        run sh -c "umask 077 && \"$pi_venv/bin/station\" config --defaults > \"$conf_dir/station.toml\""
    [ -s "$conf_dir/admin.secret" ] ||
        run sh -c "umask 077 && $py -c \"import secrets; print(secrets.token_urlsafe(32))\" > \"$conf_dir/admin.secret\""
    run chown "$service_user:$service_user" "$conf_dir/station.toml" "$conf_dir/admin.secret"
    run chmod 0600 "$conf_dir/station.toml" "$conf_dir/admin.secret"

    run install -m 0644 "$here/systemd/station.service" "$unit_path"
    run systemctl daemon-reload
    run systemctl enable station.service
    run systemctl restart station.service
    # Checked as the service user: its groups and file permissions are what matter.
    run runuser -u "$service_user" -- "$pi_venv/bin/station" doctor ||
        die "station doctor found problems (above): fix them and run setup.sh again"
    done_say "the station is running: open http://$(uname -n).local:8080/ (logs: journalctl -u station -f)"
}

if [ "$mode" = pi ]; then pi_install; else dev_install; fi
[ "$dry_run" -eq 0 ] || say "dry run ($mode): nothing was changed"
