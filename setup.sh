#!/usr/bin/env bash
# One-command install. On a Raspberry Pi: the appliance (TODO: Pi path). Elsewhere: a
# development install in ./.venv with everything the tests need.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"

run() { echo "+ $*"; "$@"; }

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    run apt-get update -q
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        python3-venv python3-dev gcc chromium mosquitto shellcheck valgrind systemd
fi
[ -x "$venv/bin/python" ] || run python3 -m venv "$venv"
run "$venv/bin/pip" install -q --upgrade pip
run "$venv/bin/pip" install -q -e "$here[dev]"
