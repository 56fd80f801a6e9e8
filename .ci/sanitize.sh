#!/usr/bin/env bash
# CI: the C kernel (station/hinge/_speedups.c and _c*.c) must compile warning-free (-Werror, the release
# flags) and run the equivalence and hostile-input tests under AddressSanitizer and UBSan with
# no error. The sanitized build goes into a copy of the package in a temporary directory, which
# the tests import because they run from there (the working tree and its build are untouched).
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
case $py in /*) ;; *) py=$PWD/$py ;; esac  # used from the temporary directory too
src=(station/hinge/_speedups.c station/hinge/_ckernel.c station/hinge/_cfilter.c)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

include=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
common=(-std=c11 -Wall -Wextra -Werror -ffp-contract=off -fno-math-errno -fvisibility=hidden -fPIC -shared -I"$include")

echo "==> the C kernel: release flags with -Werror"
gcc "${common[@]}" -O3 "${src[@]}" -o "$work/release$suffix" -lm

# The Pi's compiler: aarch64 has fused multiply-add instructions, and one would round differently
# from Python. With -ffp-contract=off there must be none (bar an explicit fma(), which we never call).
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    echo "==> the C kernel: aarch64 (Raspberry Pi) with -Werror, no fused multiply-add"
    aarch64-linux-gnu-gcc "${common[@]}" -O3 -nostdlib "${src[@]}" -o "$work/aarch64.so"
    if aarch64-linux-gnu-objdump -d "$work/aarch64.so" | grep -qwE 'fn?m(add|sub)|fml[as]'; then
        echo "sanitize.sh: the aarch64 build fuses multiply-adds: results would differ from Python" >&2
        exit 1
    fi
else
    echo "==> no aarch64-linux-gnu-gcc: skipping the Raspberry Pi build (setup.sh installs it)"
fi

echo "==> the C kernel: AddressSanitizer + UBSan build"
cp -r station tests pyproject.toml "$work"/
find "$work/station" \( -name '*.so' -o -name '__pycache__' \) -prune -exec rm -rf {} +
gcc "${common[@]}" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
    "${src[@]}" -o "$work/station/hinge/_speedups$suffix" -lm

# Python is not instrumented: the ASan runtime must be loaded first. Leak detection is off
# (the interpreter keeps memory until exit on purpose); PYTHONMALLOC=malloc lets ASan see
# every object buffer the extension writes to. --capture=sys: a sanitizer report (fd 2) is seen.
sanitized=(env LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:halt_on_error=1:exitcode=99
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
    PYTHONMALLOC=malloc STATION_REQUIRE_C=1 PYTHONDONTWRITEBYTECODE=1)

cd "$work"
"${sanitized[@]}" "$py" -c "
import station.hinge as h, station.hinge._speedups as s
assert h.IMPLEMENTATION == 'c' and s.__file__.startswith('$work'), s.__file__
print('==> running the sanitized build', s.__file__)"
"${sanitized[@]}" "$py" -m pytest -q -p no:cacheprovider --capture=sys \
    tests/hinge/test_kernel_equivalence.py tests/hinge/test_hostile.py
echo "==> sanitizers: no error"
