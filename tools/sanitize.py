#!/usr/bin/env python3
"""The sanitizer run of the full test suite: the reference track's tests built with AddressSanitizer and
UndefinedBehaviorSanitizer (LeakSanitizer included), then run; any report fails the run.

Everything comes from the `sanitize` presets of CMakePresets.json, so that this script and the plain CMake
commands do the same thing:

  cmake --preset sanitize && cmake --build --preset sanitize && ctest --preset sanitize

This script runs them in a build folder of its choice (the full suite uses build/reference/sanitize):

  python3 tools/sanitize.py --build-dir DIR [--jobs N]

The configure preset sets COURSE_SANITIZE=ON (cmake/CourseTargets.cmake adds the flags to every target); the
build preset builds the target `course_tests` (tests/CMakeLists.txt: every test executable of the track, the
only targets built); the test preset sets ASAN_OPTIONS and UBSAN_OPTIONS and leaves out the suite's own checks
(label `suite`), which would run this script again.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRESET = "sanitize"


def preset(presets: dict, kind: str) -> dict:
    for p in presets.get(kind, []):
        if p.get("name") == PRESET:
            return p
    raise SystemExit(f"sanitize: CMakePresets.json has no {kind} entry named '{PRESET}'")


def expand(value: str) -> str:
    return value.replace("${sourceDir}", str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=str(ROOT / "build" / PRESET), help="the build folder")
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs and tests (default 2)")
    args = parser.parse_args()

    presets = json.loads((ROOT / "CMakePresets.json").read_text())
    build_preset, test_preset = preset(presets, "buildPresets"), preset(presets, "testPresets")
    targets = build_preset.get("targets") or ["course_tests"]  # every test executable of the track
    env = dict(os.environ)
    env.update({k: expand(v) for k, v in test_preset.get("environment", {}).items()})
    excluded = test_preset.get("filter", {}).get("exclude", {}).get("label")
    build_dir = Path(args.build_dir).resolve()

    started = time.monotonic()
    steps = [
        ("configure", ["cmake", "--preset", PRESET, "-B", str(build_dir)]),
        ("build", ["cmake", "--build", str(build_dir), "--parallel", str(args.jobs), "--target", *targets]),
    ]
    for name, cmd in steps:
        print(f"sanitize: {' '.join(cmd)}", flush=True)
        quiet = subprocess.DEVNULL if name == "configure" else None
        if subprocess.run(cmd, cwd=ROOT, stdout=quiet).returncode != 0:
            print(f"sanitize: the {name} step failed (see above)", file=sys.stderr)
            return 1
    built = time.monotonic()

    # The sanitizers must really be in: a test executable links AddressSanitizer's runtime.
    probe = build_dir / "tests" / "test_common"
    linked = subprocess.run(["ldd", str(probe)], capture_output=True, text=True).stdout
    if "libasan" not in linked or "libubsan" not in linked:
        print(f"sanitize: {probe} is not linked with libasan and libubsan; is COURSE_SANITIZE on?", file=sys.stderr)
        return 1

    test = ["ctest", "--test-dir", str(build_dir), "--output-on-failure", "--no-tests=error",
            "--parallel", str(args.jobs)]
    if excluded:
        test += ["--label-exclude", excluded]
    shown = " ".join(f"{k}={env[k]}" for k in test_preset.get("environment", {}))
    print(f"sanitize: {shown} {' '.join(test)}", flush=True)
    result = subprocess.run(test, cwd=ROOT, env=env)
    done = time.monotonic()
    verdict = "clean" if result.returncode == 0 else "FAILED (a test failed or a sanitizer reported, see above)"
    print(f"sanitize: configure + build {built - started:.0f} s, tests {done - built:.0f} s: {verdict}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
