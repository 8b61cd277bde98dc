"""How long a learner waits: the seconds from a one-line edit of a chapter header to `./course check N`'s
verdict, for each chapter. It works on a copy of the repository (without builds and data) in a temporary
folder, with the reference solutions in chapters/ (so every check passes), and never touches this checkout.

For each chapter: one `./course check N` first (it configures and builds everything once, not timed), then an
edit that changes one line of the chapter's first header (a comment, so the verdict stays the same) and the
timed `./course check N`, which rebuilds what depends on that header and runs the tests.

  python3 bench/check_latency.py [--chapters 1 5] [--repeat 3]
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_repository(target: Path) -> None:
    # what .gitignore leaves out stays out: builds, data, the learner's state, Python's caches
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".git", "build", "data", ".course", "__pycache__"))
    for folder in sorted((ROOT / "solutions").iterdir()):  # the solved chapters, as a learner has them at the end
        if (target / "chapters" / folder.name).is_dir():
            for header in folder.glob("*.hpp"):
                shutil.copy2(header, target / "chapters" / folder.name / header.name)


def check(copy: Path, chapter: int) -> float:
    began = time.monotonic()
    run = subprocess.run([str(copy / "course"), "check", str(chapter)], cwd=copy, capture_output=True, text=True)
    seconds = time.monotonic() - began
    if run.returncode != 0:
        sys.exit(f"check_latency: ./course check {chapter} failed in the copy:\n{run.stdout}{run.stderr}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapters", type=int, nargs="*", help="the chapters to time (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="timed edits per chapter; the median is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="check-latency-") as tmp:
        copy = Path(tmp) / "course"
        copy_repository(copy)
        folders = sorted(p for p in (copy / "chapters").iterdir() if p.is_dir() and p.name[:2].isdigit())
        chosen = [f for f in folders if not args.chapters or int(f.name[:2]) in args.chapters]
        print("| chapter | first check (configure + build, s) | after a one-line edit: median (s) | all (s) |")
        print("|---|---|---|---|")
        for folder in chosen:
            number = int(folder.name[:2])
            first = check(copy, number)
            header = sorted(folder.glob("*.hpp"))[0]
            times = []
            for i in range(args.repeat):
                text = header.read_text()
                header.write_text(text + f"// an edit ({i})\n")
                times.append(check(copy, number))
            print(f"| {folder.name} (`{header.name}`) | {first:.1f} | {statistics.median(times):.1f} | "
                  f"{', '.join(f'{t:.1f}' for t in times)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
