#!/usr/bin/env python3
"""Fuzz the course's file readers: the IDX reader and the weights loader (./course fuzz).

Builds the libFuzzer targets of fuzz/ with clang (libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer),
replays the inputs kept in fuzz/regressions/<target>/ (each must load or give a DataError), then runs each
target for a bounded time and prints its executions per second and total runs.

  python3 tools/fuzz.py                    60 s per target, build in build/fuzz
  python3 tools/fuzz.py --seconds 10       a shorter run (the full test suite runs this smoke version)
  python3 tools/fuzz.py --seconds 0        only build and replay the regression inputs

A crash, a leak, an allocation above --malloc-limit-mb (a size taken from a header's claim before checking
it), a slow input or an exception other than course::DataError stops the run: the input is copied to
fuzz/regressions/<target>/ (or --keep-dir) so that it is replayed from then on, by this script and by the
Catch2 test "every input kept by the fuzzers loads or gives a DataError" in tests/common. Fix the reader,
then commit the input with the fix.
"""
from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("fuzz_idx", "fuzz_weights")


# ----------------------------------------------------------------------------------------------------
# Seeds: small valid (and nearly valid) files, made here so that no binary needs to be committed.

def idx_bytes(dims: list[int], values: bytes, type_code: int = 0x08) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + values


def weights_bytes(tensors: list[tuple[str, list[int], list[float]]]) -> bytes:
    """The weights format of common/course/weights.hpp, version 1."""
    out = bytearray(b"CRSW") + struct.pack("<II", 1, len(tensors))
    for name, shape, values in tensors:
        raw = name.encode()
        out += struct.pack("<H", len(raw)) + raw + bytes([len(shape)])
        out += b"".join(struct.pack("<I", e) for e in shape)
        out += b"".join(struct.pack("<f", v) for v in values)
    return bytes(out + struct.pack("<I", zlib.crc32(out)))


def seeds(target: str) -> dict[str, bytes]:
    rng = random.Random(7)
    if target == "fuzz_idx":
        image = bytes(rng.randrange(256) for _ in range(2 * 6 * 5))
        made = {
            "labels": idx_bytes([6], bytes([0, 9, 3, 1, 7, 2])),
            "labels-with-12": idx_bytes([3], bytes([1, 12, 2])),
            "images-2x6x5": idx_bytes([2, 6, 5], image),
            "image-28x28": idx_bytes([1, 28, 28], bytes(rng.randrange(256) for _ in range(784))),
            "rank-2": idx_bytes([3, 2], bytes(range(6))),
            "rank-4": idx_bytes([1, 2, 1, 2], bytes(range(4))),
            "float-type": idx_bytes([2], bytes(8), type_code=0x0D),
        }
        # gzip streams (1F 8B): the harness also writes them to a .gz file and reads them with read_idx.
        made["labels.gz"] = gzip.compress(made["labels"], mtime=0)
        made["images.gz"] = gzip.compress(made["images-2x6x5"], mtime=0)
        return made
    # The harness loads into fc.W (2, 3), fc.b (3) and conv.W (2, 1, 2, 2) (fuzz/fuzz_harness.hpp).
    fc_w = ("fc.W", [2, 3], [0.5 * i for i in range(6)])
    fc_b = ("fc.b", [3], [-1.0, 0.0, 1.0])
    conv_w = ("conv.W", [2, 1, 2, 2], [0.25 * i for i in range(8)])
    return {
        "matching": weights_bytes([fc_w, fc_b, conv_w]),
        "other-order": weights_bytes([conv_w, fc_b, fc_w]),
        "wrong-shape": weights_bytes([fc_w, ("fc.b", [4], [1.0] * 4), conv_w]),
        "missing": weights_bytes([fc_w, fc_b]),
        "extra": weights_bytes([fc_w, fc_b, conv_w, ("fc2.b", [1], [2.0])]),
        "twice": weights_bytes([fc_w, fc_b, fc_b]),
        "empty": weights_bytes([]),
        "nan": weights_bytes([fc_w, ("fc.b", [3], [float("nan"), float("inf"), -0.0]), conv_w]),
    }


# ----------------------------------------------------------------------------------------------------

def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], **kwargs)


def build(build_dir: Path, jobs: int) -> None:
    compiler = os.environ.get("CXX_FUZZ") or shutil.which("clang++") or shutil.which("clang++-14")
    if not compiler:
        raise SystemExit("fuzz: clang++ not found; the fuzzers need clang's libFuzzer (Debian packages clang and "
                         "its runtime: libclang-rt-14-dev on Debian 12, libclang-rt-dev on Debian 13; "
                         "./course setup installs them)")
    configure = ["cmake", "-S", ROOT / "fuzz", "-B", build_dir, f"-DCMAKE_CXX_COMPILER={compiler}"]
    if run(configure, stdout=subprocess.DEVNULL).returncode != 0:
        raise SystemExit("fuzz: configuring fuzz/ failed (see above)")
    if run(["cmake", "--build", build_dir, "--parallel", str(jobs)]).returncode != 0:
        raise SystemExit("fuzz: building the fuzzers failed (see above)")


def sanitizer_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


def limits(args) -> list[str]:
    return [f"-rss_limit_mb={args.rss_limit_mb}", f"-malloc_limit_mb={args.malloc_limit_mb}",
            f"-max_len={args.max_len}", f"-timeout={args.input_timeout}"]


def keep(found: list[Path], keep_dir: Path) -> list[Path]:
    keep_dir.mkdir(parents=True, exist_ok=True)
    kept = []
    for f in found:
        shutil.copy2(f, keep_dir / f.name)
        kept.append(keep_dir / f.name)
    return kept


def replay(exe: Path, target: str, args) -> bool:
    """Runs every kept input of the target once; True when all of them load or give a DataError."""
    folder = ROOT / "fuzz" / "regressions" / target
    files = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
    if not files:
        print(f"{target}: no regression inputs to replay in {folder.relative_to(ROOT)}")
        return True
    result = run([exe, *limits(args), *files], env=sanitizer_env(), capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout + result.stderr[-6000:])
        print(f"{target}: FAILED on a regression input of {folder.relative_to(ROOT)} (see above)")
        return False
    print(f"{target}: {len(files)} regression inputs replayed, each loads or gives a DataError")
    return True


def stat(output: str, name: str) -> int | None:
    m = re.search(rf"stat::{name}:\s*(\d+)", output)
    return int(m.group(1)) if m else None


def fuzz(exe: Path, target: str, build_dir: Path, args) -> dict:
    corpus = build_dir / "corpus" / target          # grows from run to run
    seed_dir = build_dir / "seeds" / target         # rewritten every run
    artifacts = build_dir / "artifacts" / target
    for folder in (corpus, seed_dir):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    for name, data in seeds(target).items():
        (seed_dir / name).write_bytes(data)
    dirs = [corpus, seed_dir]
    regressions = ROOT / "fuzz" / "regressions" / target
    if regressions.is_dir():
        dirs.append(regressions)
    cmd = [exe, *limits(args), f"-max_total_time={args.seconds}", "-print_final_stats=1",
           "-use_value_profile=1", f"-artifact_prefix={artifacts}/", *dirs]
    print(f"{target}: fuzzing for {args.seconds} s ...", flush=True)
    started = time.monotonic()
    result = run(cmd, env=sanitizer_env(), capture_output=True, text=True)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    log = build_dir / f"{target}.log"
    log.write_text(output)
    runs = stat(output, "number_of_executed_units")
    per_second = stat(output, "average_exec_per_sec")
    found = sorted(artifacts.glob("*"))
    report = {"target": target, "seconds": elapsed, "runs": runs, "exec_per_sec": per_second,
              "corpus": len(list(corpus.glob("*"))), "peak_rss_mb": stat(output, "peak_rss_mb"),
              "ok": result.returncode == 0 and not found, "log": log, "kept": []}
    if not report["ok"]:
        tail = output[-8000:]
        print(tail)
        keep_dir = (Path(args.keep_dir) if args.keep_dir else ROOT / "fuzz" / "regressions") / target
        report["kept"] = keep(found, keep_dir)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per target (default 60; 0: replay only)")
    parser.add_argument("--build-dir", default=str(ROOT / "build" / "fuzz"), help="the clang build folder")
    parser.add_argument("--target", action="append", choices=TARGETS, help="fuzz only this target (repeatable)")
    parser.add_argument("--keep-dir", help="where new crashing inputs go (default fuzz/regressions)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    parser.add_argument("--max-len", type=int, default=4096, help="the longest input libFuzzer makes (bytes)")
    parser.add_argument("--malloc-limit-mb", type=int, default=64,
                        help="an allocation larger than this is a failure (default 64: an input of at most "
                             "--max-len bytes never needs more)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory limit of the fuzzer (default 2048)")
    parser.add_argument("--input-timeout", type=int, default=10, help="seconds one input may take (default 10)")
    args = parser.parse_args()

    build_dir = Path(args.build_dir).resolve()
    build(build_dir, args.jobs)
    targets = args.target or list(TARGETS)
    ok = all([replay(build_dir / t, t, args) for t in targets])
    if args.seconds <= 0 or not ok:
        return 0 if ok else 1

    reports = [fuzz(build_dir / t, t, build_dir, args) for t in targets]
    print("\nfuzz summary:")
    for r in reports:
        runs = f"{r['runs']:,}" if r["runs"] is not None else "?"
        rate = f"{r['exec_per_sec']:,}" if r["exec_per_sec"] is not None else "?"
        verdict = "no crash" if r["ok"] else "FAILED"
        print(f"  {r['target']:<13} {r['seconds']:5.0f} s  {runs:>12} runs  {rate:>9} exec/s  corpus {r['corpus']:>5}  "
              f"peak RSS {r['peak_rss_mb']} MB  {verdict}   (log: {r['log']})")
        for k in r["kept"]:
            print(f"    kept {k}: replay it with {build_dir / r['target']} {k}")
    return 0 if all(r["ok"] for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
