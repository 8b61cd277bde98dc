"""The mutation check of the full test suite: each learner bug of tests/NN_name/mutations.toml, applied alone
to a copy of solutions/, must make the chapter's tests fail (CONTRIBUTING.md, "How to add a mutation").

Each worker (--jobs) has its own copy and build folder (reference track, -O1 without debug information). Every
chapter's unmutated copy must pass first; then each mutant is applied, test_chNN built and run, and the file
restored. A crash or a time-out counts as caught; a mutant that does not apply or compile is a catalogue problem.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from checks.catch_report import run_tests
from cli.course import CHAPTERS, ROOT

SOLUTIONS = ROOT / "solutions"


@dataclass(frozen=True)
class Mutation:
    chapter: str                        # "ch05"
    file: str                           # relative to solutions/, for example "05_conv2d/conv2d_naive.hpp"
    description: str                    # what a learner would call the bug
    edits: tuple[tuple[str, str], ...]  # (original text, replacement); each original occurs exactly once


def load_catalogue() -> list[Mutation]:
    mutations = []
    for chapter in CHAPTERS:
        path = ROOT / "tests" / chapter.folder / "mutations.toml"
        try:
            entries = tomllib.loads(path.read_text(encoding="utf-8")).get("mutation", []) if path.is_file() else []
            mutations += [Mutation(chapter.tag, f"{chapter.folder}/{e['file']}", e["description"],
                                   tuple((x["original"], x["replacement"]) for x in e.get("edit") or [e]))
                          for e in entries]
        except (tomllib.TOMLDecodeError, KeyError) as error:
            raise SystemExit(f"mutations: {path.relative_to(ROOT)}: {error!r}")
    return mutations


def catalogue_problems(mutations: list[Mutation]) -> list[str]:
    """Everything that makes a mutation inapplicable, as messages; empty when all apply."""
    problems = []
    for i, m in enumerate(mutations):
        where = f"mutation '{m.description}' ({m.chapter}, solutions/{m.file})"
        if any((n.chapter, n.description) == (m.chapter, m.description) for n in mutations[:i]):
            problems.append(f"{where} is in the catalogue twice")
        if not (SOLUTIONS / m.file).is_file():
            problems.append(f"{where} no longer applies: the file does not exist")
            continue
        text = (SOLUTIONS / m.file).read_text()
        for original, replacement in m.edits:
            count = text.count(original)
            if original == replacement:
                problems.append(f"{where}: an edit replaces its text with the same text")
            if count != 1:
                how = "no longer applies: its original text is not in the file" if count == 0 else \
                      f"is ambiguous: its original text occurs {count} times (add context)"
                problems.append(f"{where} {how}; update the catalogue (the text: {original.strip()[:100]!r})")
        spans = sorted((text.index(o), text.index(o) + len(o)) for o, _ in m.edits if text.count(o) == 1)
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            problems.append(f"{where}: two of its edits overlap")
    return problems


@dataclass
class Outcome:
    status: str  # "caught", "SURVIVED", "PROBLEM", or "ok" for an unmutated chapter
    detail: str


class Worker:
    """One copy of solutions/ and one build folder, made and configured when the worker is."""

    def __init__(self, folder: Path, args):
        self.src, self.build, self.args = folder / "src", folder / "build", args
        self.sync_copy()
        command = ["cmake", "-S", str(ROOT), "-B", str(self.build), "-DCOURSE_TRACK=reference",
                   f"-DCOURSE_TRACK_DIR={self.src}", "-DCOURSE_WERROR=OFF", "-DCOURSE_SUITE=OFF",
                   "-DCMAKE_BUILD_TYPE=None", "-DCMAKE_CXX_FLAGS=-O1", *args.cmake_arg]
        if args.generator and not (self.build / "CMakeCache.txt").exists():
            command += ["-G", args.generator]
        run = subprocess.run(command, capture_output=True, text=True)
        if run.returncode != 0:  # made before any thread starts: this ends the check
            raise SystemExit(f"mutations: cmake configure of {self.build} failed:\n{run.stdout[-3000:]}\n"
                             f"{run.stderr[-3000:]}")

    def sync_copy(self) -> None:
        """Makes src an exact copy of solutions/, writing only files that differ (keeps builds incremental)."""
        wanted = {path.relative_to(SOLUTIONS): path.read_bytes() for path in SOLUTIONS.rglob("*") if path.is_file()}
        for rel, data in wanted.items():
            target = self.src / rel
            if not target.is_file() or target.read_bytes() != data:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        for path in self.src.rglob("*"):
            if path.is_file() and path.relative_to(self.src) not in wanted:
                path.unlink()

    def build_and_test(self, chapter: str) -> Outcome:
        """Builds the chapter's tests and runs them: 'caught' when any fails, crashes or times out. A chapter with
        [float] cases also has test_chNN_float (tests/CMakeLists.txt): a float-only bug is caught there."""
        run = subprocess.run(["cmake", "--build", str(self.build), "--parallel", "1", "--target", f"tests_{chapter}"],
                             capture_output=True, text=True)
        targets = {f"test_{chapter}": None}  # the executables tests_chNN builds, and their test specs
        if (self.build / "tests" / f"test_{chapter}_float").is_file():
            targets[f"test_{chapter}_float"] = "[float]"
        if run.returncode != 0:
            error = next((line for line in (run.stdout + run.stderr).splitlines() if "error" in line.lower()), None)
            return Outcome("PROBLEM", "does not compile: " + (error.strip() if error else run.stderr[-500:]))
        timeout, total = self.args.test_timeout, 0
        for target, spec in targets.items():
            try:
                with tempfile.TemporaryDirectory(prefix="mutation-run-") as tmp:  # no shared working directory
                    result = run_tests(self.build / "tests" / target, cwd=tmp, timeout=timeout, spec=spec)
            except subprocess.TimeoutExpired:
                return Outcome("caught", f"{target} timed out after {timeout} s (an endless loop or a slow mutant)")
            if result.crashed:
                how = f"signal {result.signal}" if result.signal else f"exit code {result.process.returncode}"
                return Outcome("caught", f"{target} crashed ({how}) before the test report was complete")
            if not result.cases:
                return Outcome("PROBLEM", f"no test case of {target} ran")
            failed = [c.name for c in result.cases if not c.passed]
            if failed:
                return Outcome("caught", f"{len(failed)} of {len(result.cases)} tests of {target} fail; "
                                         f"first: {failed[0]}")
            total += len(result.cases)
        return Outcome("SURVIVED", f"all {total} tests pass")

    def unmutated(self, chapter: str) -> Outcome:
        result = self.build_and_test(chapter)
        if result.status != "SURVIVED":  # an unmutated copy must pass every test
            return Outcome("PROBLEM", f"the unmutated solutions fail: {result.detail}")
        return Outcome("ok", result.detail)

    def mutant(self, m: Mutation) -> Outcome:
        path = self.src / m.file
        original = text = path.read_text()
        for old, new in m.edits:
            text = text.replace(old, new, 1)
        try:
            path.write_text(text)
            os.utime(path, (time.time(),) * 2)  # a build in the same clock tick as the last one must see the change
            outcome = self.build_and_test(m.chapter)
            if outcome.status == "PROBLEM" and outcome.detail.startswith("does not compile"):
                outcome.detail = f"the mutant {outcome.detail}; fix the catalogue"
        finally:
            path.write_text(original)
        return outcome


def run_all(workers: list[Worker], items: list, work) -> dict:
    """work(worker, item) for every item, each on a free worker; returns {item: Outcome}."""
    todo, results = iter(items), {}

    def serve(worker: Worker):
        for item in todo:  # one iterator for all threads: next() holds the GIL, so each item goes to one worker
            start = time.monotonic()
            try:
                result = work(worker, item)
            except Exception as error:  # a broken worker must not lose the item
                result = Outcome("PROBLEM", f"the check itself failed: {error}")
            results[item] = result
            print(f"  [{len(results)}/{len(items)}] {getattr(item, 'description', item)}: {result.status} "
                  f"({time.monotonic() - start:.0f} s)", flush=True)

    with ThreadPoolExecutor(len(workers)) as pool:  # one thread per worker
        list(pool.map(serve, workers))
    return results


def cmd_run(args, mutations: list[Mutation]) -> int:
    started, work_dir = time.monotonic(), Path(args.work_dir).resolve()
    workers = [Worker(work_dir / f"worker{i + 1}", args) for i in range(max(1, args.jobs))]
    chapters = sorted({m.chapter for m in mutations})
    print(f"mutations: {len(mutations)} mutations of {len(chapters)} chapters, {len(workers)} workers in {work_dir}",
          flush=True)
    unmutated = run_all(workers, chapters, Worker.unmutated)
    broken = {c for c, r in unmutated.items() if r.status != "ok"}
    results = run_all(workers, [m for m in mutations if m.chapter not in broken], Worker.mutant)
    results |= {m: Outcome("not run", "the unmutated solutions fail") for m in mutations if m.chapter in broken}
    for w in workers:
        w.sync_copy()  # leave the copies unmutated, whatever happened
    verdict = {"caught": "yes", "SURVIVED": "NO: SURVIVED", "PROBLEM": "catalogue problem", "not run": "not run"}
    rows = [("chapter", "mutation", "caught", "first failing test (or why)"),
            *((m.chapter, m.description, verdict[results[m].status], results[m].detail) for m in mutations)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print()
    for i, r in enumerate(rows):
        print(" | ".join(f"{r[k]:<{widths[k]}}" for k in range(3)) + f" | {r[3]}")
        if i == 0:
            print("-|-".join("-" * w for w in widths) + "-|-" + "-" * 40)
    print()
    for c in sorted(broken):
        print(f"mutations: {c}: {unmutated[c].detail}")
    statuses = [r.status for r in results.values()]
    print(f"mutations: {statuses.count('caught')} of {len(mutations)} caught, {statuses.count('SURVIVED')} survived, "
          f"{statuses.count('PROBLEM')} catalogue problems, {len(broken)} chapters whose unmutated solutions fail; "
          f"{(time.monotonic() - started) / 60:.1f} minutes with {len(workers)} workers")
    for m in (m for m in mutations if results[m].status == "SURVIVED"):
        print(f"mutations: SURVIVED: {m.chapter} '{m.description}' (solutions/{m.file}): the chapter's tests "
              f"cannot tell this bug from a correct solution; strengthen tests/ so that they catch it")
    return 1 if "SURVIVED" in statuses or "PROBLEM" in statuses or broken else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chapter", action="append", metavar="chNN", help="only this chapter (repeatable)")
    parser.add_argument("--only", metavar="TEXT", help="only the mutations whose description contains TEXT")
    parser.add_argument("--list", action="store_true", help="print the catalogue, check that it applies, build nothing")
    parser.add_argument("--jobs", type=int, default=2, help="workers, each with its own copy and build (2)")
    parser.add_argument("--work-dir", default=ROOT / "build" / "mutations", help="copies and builds (%(default)s)")
    parser.add_argument("--generator", default=os.environ.get("CMAKE_GENERATOR", ""), help="CMake generator")
    parser.add_argument("--cmake-arg", action="append", default=[], metavar="ARG", help="an extra configure argument")
    parser.add_argument("--test-timeout", type=int, default=300, help="seconds for one run of a chapter's tests")
    args = parser.parse_args()
    mutations = load_catalogue()
    chapters = sorted({m.chapter for m in mutations})
    for chapter in args.chapter or []:
        if chapter not in chapters:
            raise SystemExit(f"mutations: no mutation for {chapter} (chapters with mutations: {', '.join(chapters)})")
    mutations = [m for m in mutations if m.chapter in (args.chapter or chapters)
                 and (args.only or "").lower() in m.description.lower()]
    if args.only and not mutations:
        raise SystemExit(f"mutations: no mutation's description contains {args.only!r}")
    problems = catalogue_problems(mutations)
    for p in problems:
        print(f"mutations: {p}", file=sys.stderr)
    if args.list:
        sys.stdout.writelines(f"{m.chapter}  {m.description}   [solutions/{m.file}]\n" for m in mutations)
        print(f"{len(mutations)} mutations")
    if problems or args.list:
        return 1 if problems else 0
    return cmd_run(args, mutations)


if __name__ == "__main__":
    sys.exit(main())
