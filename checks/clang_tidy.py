"""clang-tidy over the course's sources (cmake/StyleChecks.cmake passes them), two at a time, every warning an
error. Why not run-clang-tidy: it prints every file's "47015 warnings generated." (warnings in system headers
that .clang-tidy does not ask for) and leaves the findings somewhere in the middle, where a CI log that keeps
only its end cuts them off. Here each file gets one line, and the findings come last, with the check's name.

  python3 -m checks.clang_tidy --build build/reference --clang-tidy /usr/bin/clang-tidy FILE...
"""
import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOISE = re.compile(r"^(\d+ warnings? (and \d+ errors? )?generated\.|Suppressed \d+ warnings .*|"
                   r"Use -header-filter=.*|\d+ warnings? treated as errors?)$")


def tidy(clang_tidy: str, database: Path, source: Path) -> tuple[Path, int, list[str], float]:
    began = time.monotonic()
    run = subprocess.run([clang_tidy, f"-p={database}", "--quiet", "--extra-arg=-Wno-unknown-warning-option",
                          str(source)], cwd=ROOT, capture_output=True, text=True, errors="replace")
    said = [line for line in (run.stdout + run.stderr).splitlines() if line.strip() and not NOISE.match(line)]
    return source, run.returncode, said, time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, type=Path, help="the build folder with compile_commands.json")
    parser.add_argument("--clang-tidy", default="clang-tidy", help="the clang-tidy program")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("files", nargs="+", help="the sources to check, relative to the repository")
    args = parser.parse_args()
    commands = args.build / "compile_commands.json"
    if not commands.exists():
        print(f"clang-tidy: {commands} does not exist (configure the build first)", file=sys.stderr)
        return 2
    compiled = {Path(c["file"]).resolve() for c in json.loads(commands.read_text())}
    sources = [(ROOT / f).resolve() for f in args.files]
    skipped = [s for s in sources if s not in compiled]
    sources = [s for s in sources if s in compiled]
    for s in skipped:  # a program whose library this machine lacks (libtorch, Google Benchmark)
        print(f"clang-tidy: {s.relative_to(ROOT)} is not compiled in {args.build}, so it is not checked")
    with tempfile.TemporaryDirectory(prefix="clang-tidy-") as tmp:
        # clang-tidy reads the database for every file: a copy, so that a build that configures again at the same
        # time (another test of the suite) cannot hand it a half-written one
        shutil.copy(commands, Path(tmp) / "compile_commands.json")
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = []
            for source, code, said, seconds in pool.map(lambda s: tidy(args.clang_tidy, Path(tmp), s), sources):
                clean = code == 0 and not said
                state = "clean" if clean else (f"crashed (signal {-code})" if code < 0 else
                                               f"{len(said)} lines of findings")
                print(f"clang-tidy: {source.relative_to(ROOT)}: {state} ({seconds:.1f} s)", flush=True)
                results.append((source, code, said, clean))
    bad = [(s, code, said) for s, code, said, clean in results if not clean]
    for source, code, said in bad:
        print(f"\n--- clang-tidy on {source.relative_to(ROOT)} (exit code {code}):")
        print("\n".join(said) or "(it printed nothing)")
    if bad:
        names = ", ".join(str(s.relative_to(ROOT)) for s, _, _ in bad)
        print(f"\nclang-tidy: {len(bad)} of {len(results)} files have findings: {names}", file=sys.stderr)
        return 1
    print(f"clang-tidy: all {len(results)} files are clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
