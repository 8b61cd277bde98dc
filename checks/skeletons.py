"""Skeletons are generated from the reference solutions: each TODO region's body (CONTRIBUTING.md, "How to add
an exercise") becomes one course::todo(...) line; outside the regions, skeleton and solution are the same bytes.
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

BEGIN = re.compile(r"^(?P<indent>[ \t]*)// TODO\((?P<chapter>ch\d\d)\) begin: (?P<function>.+?) -- "
                   r"(?P<next_step>.+?)\s*$")
END = re.compile(r"^[ \t]*// TODO\((?P<chapter>ch\d\d)\) end\s*$")
ANY_MARKER = re.compile(r"//\s*TODO\(ch\d\d\)\s*(begin|end)")


class SkeletonError(Exception):
    pass


@dataclass
class Region:
    begin_line: str   # the marker line, with its newline
    line_number: int  # 1-based line of the begin marker
    indent: str
    chapter: str
    function: str
    next_step: str
    body: list[str] = field(default_factory=list)
    end_line: str = ""

    def stub(self) -> list[str]:
        def quote(s: str) -> str:
            return s.replace("\\", "\\\\").replace('"', '\\"')
        return [f'{self.indent}course::todo("{self.chapter}", "{quote(self.function)}", "{quote(self.next_step)}");\n']


@dataclass
class Parsed:
    """A file: its text, and its lines outside the TODO regions and its regions, in their order."""
    text: str
    pieces: list[str | Region] = field(default_factory=list)

    @property
    def regions(self) -> list[Region]:
        return [p for p in self.pieces if isinstance(p, Region)]

    def skeleton(self) -> str:
        return "".join(p if isinstance(p, str) else "".join([p.begin_line, *p.stub(), p.end_line])
                       for p in self.pieces)

    def worked(self, expected: "Parsed") -> list[Region]:
        """The regions of this file of chapters/ whose body is no longer the stub: the learner's work."""
        return [a for a, e in zip(self.regions, expected.regions) if a.body != e.stub()]


def parse(path: Path) -> Parsed:
    def error(number: int, text: str) -> SkeletonError:
        return SkeletonError(f"{path.relative_to(ROOT)}:{number}: {text}")

    parsed, current = Parsed(path.read_text(encoding="utf-8")), None
    for number, line in enumerate(parsed.text.splitlines(keepends=True), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin and current is not None:
            raise error(number, f"TODO region opened at line {current.line_number} is not closed before this "
                                "one begins")
        if begin:
            current = Region(line, number, **begin.groupdict())
        elif end and current is None:
            raise error(number, "'TODO(..) end' without a matching begin")
        elif end and end["chapter"] != current.chapter:
            raise error(number, f"region begun as TODO({current.chapter}) ends as TODO({end['chapter']})")
        elif end:
            current.end_line = line
            parsed.pieces.append(current)
            current = None
        elif current is not None:
            current.body.append(line)
        elif ANY_MARKER.search(line):
            raise error(number, "malformed TODO marker; write '// TODO(chNN) begin: Function -- next step' or "
                                "'// TODO(chNN) end'")
        else:
            parsed.pieces.append(line)
    if current is not None:
        raise error(current.line_number, "TODO region is never closed")
    return parsed


def skeletons() -> dict[Path, Parsed]:
    """Every solution file of a chapter (relative to solutions/), parsed."""
    result = {path.relative_to(SOLUTIONS): parse(path) for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*/**/*"))
              if path.suffix in CODE_SUFFIXES and path.is_file()}
    for rel, parsed in result.items():
        expected = "ch" + rel.parts[0][:2]
        for region in parsed.regions:
            if region.chapter != expected:
                raise SkeletonError(f"solutions/{rel}:{region.line_number}: region is tagged "
                                    f"TODO({region.chapter}) but the file belongs to {expected}")
        if "course::todo(" in parsed.text:
            raise SkeletonError(f"solutions/{rel}: a solution must not call course::todo()")
    return result


def write_if_changed(target: Path, text: str) -> bool:
    target.parent.mkdir(parents=True, exist_ok=True)
    changed = not target.exists() or target.read_text(encoding="utf-8") != text
    if changed:
        target.write_text(text, encoding="utf-8")
    return changed


def cmd_generate(args) -> int:
    for rel, parsed in skeletons().items():
        write_if_changed(Path(args.out).resolve() / rel, parsed.skeleton())
    return 0


def cmd_write(args) -> int:
    for rel, parsed in skeletons().items():
        target = CHAPTERS / rel
        kept = parse(target).worked(parsed) if target.exists() and not args.force else []
        if kept:
            print(f"skeletons: chapters/{rel} holds your work in {len(kept)} TODO region(s); "
                  f"not overwritten (use --force to discard it)", file=sys.stderr)
        elif write_if_changed(target, parsed.skeleton()):
            print(f"skeletons: wrote chapters/{rel}")
    return 0


def cmd_check(args) -> int:
    problems, learner_work, expected_files = [], 0, skeletons()
    for rel, expected in expected_files.items():
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
        # the same skeleton means the same text outside the regions and the same markers
        if actual.skeleton() != expected.skeleton():
            diff = "".join(difflib.unified_diff(expected.skeleton().splitlines(keepends=True),
                                                actual.text.splitlines(keepends=True),
                                                f"generated from solutions/{rel}", f"chapters/{rel}", n=2))
            problems.append(f"chapters/{rel} differs from its solution outside the TODO regions "
                            f"(edit solutions/{rel}, then run: python3 -m checks.skeletons write):\n{diff}")
            continue
        solved = actual.worked(expected)
        learner_work += len(solved)
        problems += [f"chapters/{rel}:{a.line_number}: TODO region '{a.function}' does not hold its stub "
                     f"(a solved exercise must not be committed to chapters/)" for a in solved if args.strict]
    for path in sorted(CHAPTERS.rglob("*")):
        if path.is_file() and path.suffix in CODE_SUFFIXES and path.relative_to(CHAPTERS) not in expected_files:
            problems.append(f"chapters/{path.relative_to(CHAPTERS)} has no solution in solutions/ "
                            f"(every skeleton is generated from a solution)")
    if problems:
        print(*(f"skeleton drift: {p}" for p in problems), sep="\n", file=sys.stderr)
        print(f"skeleton check FAILED: {len(problems)} problem(s) in {len(expected_files)} files", file=sys.stderr)
        return 1
    note = f"; {learner_work} region(s) hold your own work" if learner_work else ""
    regions = sum(len(parsed.regions) for parsed in expected_files.values())
    print(f"skeleton check passed: {len(expected_files)} files, {regions} TODO regions in sync{note}")
    return 0


def cmd_status(args) -> int:
    status = {}
    for rel, expected in skeletons().items():
        entry = status.setdefault(rel.parts[0], {"exercises": 0, "untouched": 0, "functions_left": []})
        entry["exercises"] += len(expected.regions)
        if (CHAPTERS / rel).exists():
            left = [a.function for a in parse(CHAPTERS / rel).regions
                    if any(a.body == e.stub() for e in expected.regions if e.function == a.function)]
            entry["untouched"] += len(left)
            entry["functions_left"] += left
    print(json.dumps(status, indent=1))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write the pristine skeletons of every chapter into a folder (the suite)")
    g.add_argument("--out", required=True)
    w = sub.add_parser("write", help="rewrite chapters/ from solutions/ (for course developers)")
    w.add_argument("--force", action="store_true", help="overwrite a learner's work too")
    c = sub.add_parser("check", help="fail when chapters/ drifted from solutions/ outside the TODO regions")
    c.add_argument("--strict", action="store_true", default=bool(os.environ.get("CI")),
                   help="every region must also hold its stub (also when CI is set)")
    sub.add_parser("status", help="per chapter, how many exercises there are and how many hold the stub (JSON)")
    args = parser.parse_args()
    commands = {"generate": cmd_generate, "write": cmd_write, "check": cmd_check, "status": cmd_status}
    try:
        return commands[args.command](args)
    except SkeletonError as e:
        print(f"skeletons: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
