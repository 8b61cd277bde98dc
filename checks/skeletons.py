"""Skeletons are generated from the reference solutions: each TODO region's body (CONTRIBUTING.md, "How to add
an exercise") becomes one course::todo(...) line; outside the regions, skeleton and solution are the same bytes.

  python3 -m checks.skeletons generate --out DIR | write [--force] | check [--strict] | status
"""
import argparse
import difflib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CHAPTERS = ROOT / "chapters"
CODE_SUFFIXES = {".hpp", ".h", ".cpp"}

BEGIN = re.compile(r"^(?P<indent>[ \t]*)// TODO\((?P<chapter>ch\d\d)\) begin: (?P<function>.+?) -- (?P<next>.+?)\s*$")
END = re.compile(r"^[ \t]*// TODO\((?P<chapter>ch\d\d)\) end\s*$")
ANY_MARKER = re.compile(r"//\s*TODO\(ch\d\d\)\s*(begin|end)")


class SkeletonError(Exception):
    pass


@dataclass
class Region:
    begin_line: str  # the marker line, with its newline
    end_line: str
    body: list[str]
    chapter: str
    function: str
    next_step: str
    indent: str
    line_number: int  # 1-based line of the begin marker

    def stub(self) -> list[str]:
        def quote(s: str) -> str:
            return s.replace("\\", "\\\\").replace('"', '\\"')
        return [f'{self.indent}course::todo("{self.chapter}", "{quote(self.function)}", "{quote(self.next_step)}");\n']


@dataclass
class Parsed:
    """A file split into text outside the regions (len(regions) + 1 pieces) and the regions."""
    outside: list[list[str]] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)


def parse(path: Path) -> Parsed:
    parsed, current = Parsed(outside=[[]]), None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(keepends=True), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if current is None:
            if begin:
                current = Region(line, "", [], begin["chapter"], begin["function"], begin["next"],
                                 begin["indent"], number)
            elif end:
                raise SkeletonError(f"{path.relative_to(ROOT)}:{number}: 'TODO(..) end' without a matching begin")
            elif ANY_MARKER.search(line):
                raise SkeletonError(f"{path.relative_to(ROOT)}:{number}: malformed TODO marker; write "
                                    f"'// TODO(chNN) begin: Function -- next step' or '// TODO(chNN) end'")
            else:
                parsed.outside[-1].append(line)
        else:
            if begin:
                raise SkeletonError(f"{path.relative_to(ROOT)}:{number}: TODO region opened at line "
                                    f"{current.line_number} is not closed before this one begins")
            if end:
                if end["chapter"] != current.chapter:
                    raise SkeletonError(f"{path.relative_to(ROOT)}:{number}: region begun as "
                                        f"TODO({current.chapter}) ends as TODO({end['chapter']})")
                current.end_line = line
                parsed.regions.append(current)
                parsed.outside.append([])
                current = None
            else:
                current.body.append(line)
    if current is not None:
        raise SkeletonError(f"{path.relative_to(ROOT)}:{current.line_number}: TODO region is never closed")
    return parsed


def render_skeleton(parsed: Parsed) -> str:
    out: list[str] = []
    for i, region in enumerate(parsed.regions):
        out += parsed.outside[i]
        out += [region.begin_line, *region.stub(), region.end_line]
    out += parsed.outside[-1]
    return "".join(out)


def chapter_dirs() -> list[Path]:
    return sorted(p for p in SOLUTIONS.iterdir() if p.is_dir() and re.match(r"^\d\d_", p.name))


def solution_files(chapter: Path) -> list[Path]:
    return sorted(p for p in chapter.rglob("*") if p.is_file() and p.suffix in CODE_SUFFIXES)


def validate_solution(path: Path, parsed: Parsed) -> None:
    expected = "ch" + path.relative_to(SOLUTIONS).parts[0][:2]
    for region in parsed.regions:
        if region.chapter != expected:
            raise SkeletonError(f"{path.relative_to(ROOT)}:{region.line_number}: region is tagged "
                                f"TODO({region.chapter}) but the file belongs to {expected}")
    if "course::todo(" in path.read_text(encoding="utf-8"):
        raise SkeletonError(f"{path.relative_to(ROOT)}: a solution must not call course::todo()")


def skeletons() -> dict[Path, tuple[Parsed, str]]:
    """Every solution file (relative to solutions/) with its parsed form and its rendered skeleton."""
    result = {}
    for chapter in chapter_dirs():
        for path in solution_files(chapter):
            parsed = parse(path)
            validate_solution(path, parsed)
            result[path.relative_to(SOLUTIONS)] = (parsed, render_skeleton(parsed))
    return result


def write_if_changed(target: Path, text: str) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    changed = not target.exists() or target.read_text(encoding="utf-8") != text
    if changed:
        target.write_text(text, encoding="utf-8")
    return changed


def cmd_generate(args) -> int:
    for rel, (_, text) in skeletons().items():
        write_if_changed(Path(args.out).resolve() / rel, text)
    return 0


def learner_regions(rel: Path, expected: Parsed) -> list[Region]:
    """Regions of chapters/rel whose body is no longer the stub (the learner's work)."""
    path = CHAPTERS / rel
    if not path.exists():
        return []
    return [r for r, e in zip(parse(path).regions, expected.regions) if r.body != e.stub()]


def cmd_write(args) -> int:
    for rel, (parsed, text) in skeletons().items():
        target = CHAPTERS / rel
        if target.exists() and not args.force:
            worked = learner_regions(rel, parsed)
            if worked:
                print(f"skeletons: chapters/{rel} holds your work in {len(worked)} TODO region(s); "
                      f"not overwritten (use --force to discard it)", file=sys.stderr)
                continue
        if write_if_changed(target, text):
            print(f"skeletons: wrote chapters/{rel}")
    return 0


def cmd_check(args) -> int:
    strict = args.strict or bool(os.environ.get("CI"))
    problems: list[str] = []
    learner_work, expected_files = 0, skeletons()
    for rel, (expected, text) in expected_files.items():
        path = CHAPTERS / rel
        if not path.exists():
            problems.append(f"chapters/{rel} is missing (its solution is solutions/{rel}); "
                            f"run: python3 -m checks.skeletons write")
            continue
        try:
            actual = parse(path)
        except SkeletonError as e:
            problems.append(str(e))
            continue
        same_frame = (len(actual.regions) == len(expected.regions)
                      and actual.outside == expected.outside
                      and all(a.begin_line == e.begin_line and a.end_line == e.end_line
                              for a, e in zip(actual.regions, expected.regions)))
        if not same_frame:
            current = path.read_text(encoding="utf-8")
            diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), current.splitlines(keepends=True),
                                                f"generated from solutions/{rel}", f"chapters/{rel}", n=2))
            problems.append(f"chapters/{rel} differs from its solution outside the TODO regions "
                            f"(edit solutions/{rel}, then run: python3 -m checks.skeletons write):\n{diff}")
            continue
        for a, e in zip(actual.regions, expected.regions):
            if a.body != e.stub():
                learner_work += 1
                if strict:
                    problems.append(f"chapters/{rel}:{a.line_number}: TODO region '{a.function}' does not hold "
                                    f"its stub (a solved exercise must not be committed to chapters/)")
    for path in sorted(CHAPTERS.rglob("*")):
        if path.is_file() and path.suffix in CODE_SUFFIXES and path.relative_to(CHAPTERS) not in expected_files:
            problems.append(f"chapters/{path.relative_to(CHAPTERS)} has no solution in solutions/ "
                            f"(every skeleton is generated from a solution)")
    for p in problems:
        print(f"skeleton drift: {p}", file=sys.stderr)
    regions = sum(len(parsed.regions) for parsed, _ in expected_files.values())
    if problems:
        print(f"skeleton check FAILED: {len(problems)} problem(s) in {len(expected_files)} files", file=sys.stderr)
        return 1
    note = f"; {learner_work} region(s) hold your own work" if learner_work else ""
    print(f"skeleton check passed: {len(expected_files)} files, {regions} TODO regions in sync{note}")
    return 0


def cmd_status(args) -> int:
    status = {}
    for rel, (expected, _) in skeletons().items():
        chapter = rel.parts[0]
        entry = status.setdefault(chapter, {"exercises": 0, "untouched": 0, "functions_left": []})
        entry["exercises"] += len(expected.regions)
        path = CHAPTERS / rel
        if not path.exists():
            continue
        for a in parse(path).regions:
            if any(a.body == e.stub() for e in expected.regions if e.function == a.function):
                entry["untouched"] += 1
                entry["functions_left"].append(a.function)
    json.dump(status, sys.stdout, indent=1)
    print()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the pristine skeletons of every chapter into a folder (the suite)")
    g.add_argument("--out", required=True)
    g.set_defaults(func=cmd_generate)
    w = sub.add_parser("write", help="rewrite chapters/ from solutions/ (for course developers)")
    w.add_argument("--force", action="store_true", help="overwrite a learner's work too")
    w.set_defaults(func=cmd_write)
    c = sub.add_parser("check", help="fail when chapters/ drifted from solutions/ outside the TODO regions")
    c.add_argument("--strict", action="store_true", help="every region must also hold its stub (also when CI is set)")
    c.set_defaults(func=cmd_check)
    s = sub.add_parser("status", help="per chapter, how many exercises there are and how many hold the stub (JSON)")
    s.set_defaults(func=cmd_status)
    args = parser.parse_args()
    try:
        return args.func(args)
    except SkeletonError as e:
        print(f"skeletons: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
