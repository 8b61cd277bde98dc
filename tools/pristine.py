#!/usr/bin/env python3
"""The pristine-skeleton check of the full test suite: every test must be able to fail.

The skeletons are generated from solutions/ (tools/skeletons.py), built on the learner track, and each
chapter's tests are run against them. A test that passes on a skeleton whose exercises all throw TODO
errors cannot tell a finished exercise from an unfinished one, so:

  * every test case must FAIL on the pristine skeleton, and its failure must be a TODO message;
  * except test cases tagged [given], which test code the course gives (shape checks, helpers):
    those must PASS, since the skeleton contains that code unchanged.

Commands:
  build  --build-dir DIR [--generator G] [--jobs N]   generate the skeletons and build every test executable
  verify --exe PATH --chapter chNN                    run one chapter's tests and apply the rules above
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from catch_report import run_catch

ROOT = Path(__file__).resolve().parent.parent


def cmd_build(args) -> int:
    build_dir = Path(args.build_dir).resolve()
    # The folder is called chapters/ so that TODO messages show the same paths as in the repository.
    src = build_dir / "src" / "chapters"
    binary = build_dir / "build"
    subprocess.run([sys.executable, str(ROOT / "tools" / "skeletons.py"), "generate", "--out", str(src)], check=True)
    configure = ["cmake", "-S", str(ROOT), "-B", str(binary), "-DCOURSE_TRACK=learner",
                 f"-DCOURSE_TRACK_DIR={src}", "-DCOURSE_WERROR=ON", "-DCOURSE_SUITE=OFF",
                 "-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
    if args.generator:
        configure += ["-G", args.generator]
    subprocess.run(configure, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", str(binary), "--parallel", str(args.jobs)], check=True)
    print(f"pristine skeletons built in {binary}")
    return 0


def cmd_verify(args) -> int:
    exe = Path(args.exe)
    if not exe.exists():
        print(f"pristine check: {exe} was not built", file=sys.stderr)
        return 1
    cases, run = run_catch(exe)
    if cases is None:
        print(f"pristine check of {args.chapter}: the test executable did not finish its report "
              f"(exit code {run.returncode}: a crash?)\n{run.stdout}\n{run.stderr}", file=sys.stderr)
        return 1
    problems, rows = [], []
    count = 0
    for case in cases:
        count += 1
        name, passed = case.name, case.passed
        given = "[given]" in case.tags
        todo_message = "TODO(ch" in case.text
        if given:
            verdict = "passes (given code)" if passed else "FAILS, but it tests given code"
            if not passed:
                problems.append(f"'{name}' is tagged [given] but fails on the pristine skeleton:\n    {case.text[:600]}")
        elif passed:
            verdict = "PASSES on the skeleton: this test cannot fail"
            problems.append(f"'{name}' passes on the pristine skeleton, so it cannot tell finished work from "
                            f"unfinished work (tag it [given] only if it tests code the course gives)")
        elif not todo_message:
            verdict = "FAILS, but without a TODO message"
            problems.append(f"'{name}' fails on the pristine skeleton without a TODO message:\n    "
                            f"{case.text[:600]}")
        else:
            verdict = "fails with a TODO message"
        rows.append((name, verdict))
    if count == 0:
        problems.append("no test cases ran")
    width = max((len(n) for n, _ in rows), default=10)
    print(f"pristine skeleton of {args.chapter}:")
    for name, verdict in rows:
        print(f"  {name:<{width}}  {verdict}")
    for p in problems:
        print(f"pristine check of {args.chapter}: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"pristine check of {args.chapter} passed: {count} test cases behave as they must on the skeleton")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--build-dir", required=True)
    b.add_argument("--generator", default=os.environ.get("CMAKE_GENERATOR", ""))
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    b.set_defaults(func=cmd_build)
    v = sub.add_parser("verify")
    v.add_argument("--exe", required=True)
    v.add_argument("--chapter", required=True)
    v.set_defaults(func=cmd_verify)
    args = parser.parse_args()
    try:
        return args.func(args)
    except subprocess.CalledProcessError as e:
        print(f"pristine: command failed with exit code {e.returncode}: {' '.join(map(str, e.cmd))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
