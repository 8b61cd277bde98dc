"""./course: the learner's command for "LeNet from scratch".

  ./course setup          install the missing Debian packages, then configure both tracks
  ./course check N        build and run chapter N's tests against your code in chapters/
  ./course progress       one line per chapter: passed, failing or not started
  ./course hint N         the next step of a hint of chapter N (hint N WORDS: the hint about WORDS, --list)
  ./course test           the full test suite (--quick: without mutations, sanitizers and fuzzing)
  ./course book           build the book: the chapters as HTML, in build/reference/book/html
  ./course train          train LeNet on real MNIST digits (--track learner: your own layers)
  ./course experiments    chapter 8's experiments (figures and numbers of initialization, momentum, schedules)
  ./course bench          training throughput: readable layers, the fast path, libtorch (when installed)
  ./course fuzz           fuzz the IDX reader and the weights loader with libFuzzer (60 s each by default)
  ./course figures        draw the chapters' figures (programs/figures) into chapters/NN_name/figures/
  ./course start          the first command on a fresh machine: install, prepare the data, train LeNet, run
                          chapter 8's experiments, build the book

Plain CMake works as well:
  cmake --preset learner && cmake --build --preset learner --target test_ch01 && ctest --preset learner -L ch01
  cmake --build --preset learner --target check_ch01     (builds chapter 1's tests and runs them with CTest)
"""
import argparse
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from checks.catch_report import count_cases, run_tests
from cli import hints

ROOT = Path(__file__).resolve().parent.parent
STATE_FILE = ROOT / ".course" / "state.json"


@dataclass(frozen=True, order=True)
class Chapter:
    number: int
    folder: str
    title: str

    @property
    def tag(self) -> str:
        return f"ch{self.number:02d}"

    @property
    def written(self) -> bool:
        """A chapter exists once its reference solution and its tests exist."""
        return (ROOT / "solutions" / self.folder).is_dir() and (ROOT / "tests" / self.folder).is_dir()


CHAPTER_FOLDER = re.compile(r"^(?P<number>\d\d)_(?P<name>.+)$")  # as tests/CMakeLists.txt: NN_*
CHAPTER_HEADING = re.compile(r"^#\s+(?:Chapter\s+\d+\s*:\s*)?(?P<title>.+?)\s*#*\s*$")


def find_chapters(root: Path = ROOT) -> list[Chapter]:
    """Every chapter folder chapters/NN_name, in order, with the first heading of its README.md as its title
    (without "Chapter N: "): no list of chapters is written by hand anywhere."""
    chapters = []
    for folder in (root / "chapters").glob("*"):
        if folder.is_dir() and (match := CHAPTER_FOLDER.match(folder.name)):
            readme = folder / "README.md"
            lines = readme.read_text(encoding="utf-8", errors="replace").splitlines() if readme.is_file() else []
            headings = (heading.group("title") for heading in map(CHAPTER_HEADING.match, lines) if heading)
            title = next(headings, match.group("name").replace("_", " "))
            chapters.append(Chapter(int(match.group("number")), folder.name, title))
    return sorted(chapters)


CHAPTERS = find_chapters()


class CourseError(Exception):
    """An error with a message for the learner; printed without a traceback."""


# small helpers ---------------------------------------------------------------------------------------
say = functools.partial(print, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, **kwargs)


def chapter_by_number(text: str) -> Chapter:
    if not re.fullmatch(r"\d{1,2}", text):
        raise CourseError(f"'{text}' is not a chapter number; use 1 to {len(CHAPTERS)}")
    if (chapter := next((c for c in CHAPTERS if c.number == int(text)), None)) is None:
        raise CourseError(f"there is no chapter {int(text)}; the chapters are 1 to {len(CHAPTERS)}")
    if not chapter.written:
        raise CourseError(f"chapter {chapter.number} ({chapter.title}) is not written yet; "
                          f"./course progress shows which chapters exist")
    return chapter


def load_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def save_state(state: dict) -> None:
    STATE_FILE.parent.mkdir(exist_ok=True)
    tmp = STATE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(STATE_FILE)


def chapter_hash(chapter: Chapter) -> str:
    """A hash of the learner's files of one chapter and of every earlier one (later chapters use them)."""
    digest = hashlib.sha256()
    for path in sorted(path for c in CHAPTERS if c.number <= chapter.number
                       for path in (ROOT / "chapters" / c.folder).rglob("*") if path.suffix in {".hpp", ".h", ".cpp"}):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# setup -----------------------------------------------------------------------------------------------
PACKAGES_FILE = ROOT / "cli" / "packages.txt"
SYSTEMS = ("debian-12", "debian-13", "ubuntu-24.04", "homebrew")  # the columns of cli/packages.txt
TESTED = ("debian-12", "debian-13")  # the systems ./course setup installs packages on


@dataclass(frozen=True)
class Need:
    name: str
    packages: dict[str, str]  # system -> package name ("-": not needed or not available there)
    if_missing: str | None    # install only when this command is missing


def package_table() -> list[Need]:
    needs = []
    for number, line in enumerate(PACKAGES_FILE.read_text().splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        condition = words.pop()[len("if-missing="):] if words[-1].startswith("if-missing=") else None
        if len(words) != 1 + len(SYSTEMS):
            where = f"{os.path.relpath(PACKAGES_FILE, ROOT)}:{number}"
            raise CourseError(f"{where}: expected a need and {len(SYSTEMS)} package names ({', '.join(SYSTEMS)}), "
                              f"found {len(words)} words")
        needs.append(Need(words[0], dict(zip(SYSTEMS, words[1:])), condition))
    return needs


def this_system(os_release: Path = Path("/etc/os-release")) -> tuple[str, str]:
    """This machine as ID-VERSION_ID of /etc/os-release, and its name for messages, for example
    ('debian-13', 'Debian GNU/Linux 13 (trixie)'). Only the systems in SYSTEMS have a column in cli/packages.txt."""
    if os_release.is_file():
        fields = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', os_release.read_text(), re.M))
        key = f"{fields.get('ID', '')}-{fields.get('VERSION_ID', '')}"
        return key, fields.get("PRETTY_NAME", key)
    if shutil.which("brew"):
        return "homebrew", "Homebrew"
    return "unknown", sys.platform


def column_for(system: str) -> str:
    """The column of cli/packages.txt that names the packages for `system`: its own, else Debian 13's."""
    return system if system in SYSTEMS else "debian-13"


def packages_for(system: str) -> list[str]:
    """The packages of `system`'s column that this machine needs (an `if-missing=CMD` line only without CMD)."""
    column = column_for(system)
    return [need.packages[column] for need in package_table()
            if need.packages[column] != "-" and not (need.if_missing and shutil.which(need.if_missing))]


def missing_packages(packages: list[str]) -> list[str]:
    if not shutil.which("dpkg-query"):
        raise CourseError("this is not a Debian-like system (dpkg-query is missing); install the packages of "
                          "cli/packages.txt by hand, then run ./course setup --no-install")
    query = [subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True) for p in packages]
    return [p for p, q in zip(packages, query) if q.returncode != 0 or "install ok installed" not in q.stdout]


def apt_install(packages: list[str]) -> None:
    if os.geteuid() != 0 and not shutil.which("sudo"):
        raise CourseError("installing packages needs root: run ./course setup as root, or install sudo")
    prefix = ["sudo"] if os.geteuid() != 0 else []
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    say(f"course: installing {len(packages)} Debian package(s): {' '.join(packages)}")
    for cmd in (prefix + ["apt-get", *lock, "update", "-q"],
                prefix + ["apt-get", *lock, "install", "-y", "-q", "--no-install-recommends", *packages]):
        if subprocess.run(cmd, env=env).returncode != 0:
            raise CourseError(f"'{' '.join(cmd)}' failed; see apt-get's message above")


def configure(preset: str, quiet: bool = True) -> None:
    say(f"course: configuring the {preset} track (cmake --preset {preset})")
    result = run(["cmake", "--preset", preset], capture_output=quiet, text=True)
    if result.returncode != 0:
        if quiet:
            sys.stderr.write(result.stdout + result.stderr)
        raise CourseError(f"cmake --preset {preset} failed (see above); did ./course setup finish?")


def ensure_configured(preset: str, known: str = "CMakeCache.txt") -> None:
    """Configures the track when build/PRESET/KNOWN is missing: a new folder, or one an older course configured."""
    if not (ROOT / "build" / preset / known).exists():
        configure(preset)


def built(preset: str, target: str, what: str, known: str = "CMakeCache.txt") -> bool:
    """Builds target on a track, configured first when needed (ensure_configured), and says that it builds what."""
    ensure_configured(preset, known)
    say(f"course: building {what}")
    return run(["cmake", "--build", "--preset", preset, "--target", target]).returncode == 0


def install_missing() -> None:
    system, pretty = this_system()
    if system not in TESTED:
        say(f"course: this is {pretty}, which the course does not test; it installs nothing here. It needs these "
            f"packages ({column_for(system)} names, untested guidance in README.md, section \"Other systems\"): "
            f"{' '.join(packages_for(system))}")
    elif not (missing := missing_packages(packages_for(system))):
        say(f"course: every package the course needs on {pretty} is installed")
    else:
        apt_install(missing)
        if still := missing_packages(missing):
            raise CourseError(f"these packages are still missing after apt-get: {' '.join(still)}")


def cmd_setup(args) -> int:
    if not args.no_install:
        install_missing()
    for preset in ("learner", "reference"):
        configure(preset)
    say("course: setup done. Start with chapter 1: read chapters/01_backprop_1d/README.md, "
        "then run ./course check 1")
    return 0


def test_executables(chapter: Chapter) -> list[tuple[Path, str | None, str]]:
    """(path, test spec, prefix of the case names) of the tests tests_chNN built. A chapter whose results depend on
    precision also has test_chNN_float, the same tests built with real = float; only its [float] cases count."""
    exe = ROOT / "build" / "learner" / "tests" / f"test_{chapter.tag}"
    float_exe = exe.with_name(f"{exe.name}_float")
    return [(exe, None, "")] + [(float_exe, "[float]", "[float] ")] * float_exe.exists()


def cmd_check(args) -> int:
    chapter = chapter_by_number(args.chapter)
    what = f"chapter {chapter.number} (test_{chapter.tag}) against your code in chapters/"
    # tests_chNN (tests/CMakeLists.txt), which a folder that an older course configured does not know yet
    if not built("learner", f"tests_{chapter.tag}", what, known=f"tests/CMakeFiles/tests_{chapter.tag}.dir"):
        say(f"\nChapter {chapter.number} does not compile yet: the compiler's first error above names the file and "
            f"line. Fix it, then run ./course check {chapter.number} again.")
        record(chapter, passed=0, total=0, compiled=False, crashed=None)
        return 1
    exes = test_executables(chapter)
    if args.verbose:
        return max(run([str(exe), *filter(None, [spec])]).returncode for exe, spec, _ in exes)
    cases, crashes, total = [], [], 0
    for exe, spec, prefix in exes:
        result = run_tests(exe, cwd=ROOT, spec=spec)
        total += max(count_cases(exe, spec) or 0, len(result.cases))
        for case in result.cases:
            case.name = prefix + case.name
        cases += result.cases
        crashes += [(exe, prefix, result)] if result.crashed else []
    passed = sum(c.passed for c in cases)
    crashed = {prefix + r.crashed_in for _, prefix, r in crashes if r.crashed_in}
    say(f"\nChapter {chapter.number}: {chapter.title} (learner track)")
    for case in cases:
        say(f"  {'pass' if case.passed else 'CRASH' if case.name in crashed else 'FAIL'}  {case.name}")
        for line in case.first_failure.splitlines() if not case.passed else []:  # indented, wrapped at 110
            say("\n".join(textwrap.wrap(line, width=110, initial_indent=" " * 6, subsequent_indent=" " * 8)) or " " * 6)
    say()
    record(chapter, passed=passed, total=total, compiled=True,
           crashed=min(crashed, default="before its report") if crashes else None)
    for exe, prefix, result in crashes:
        how = f"signal {result.signal}" if result.signal else f"exit code {result.process.returncode}"
        where = f"in the test '{prefix}{result.crashed_in}'" if result.crashed_in else "before its report was complete"
        spec = re.sub(r"([\\,\[\]])", r"\\\1", result.crashed_in or "")  # a comma or a bracket means more in a spec
        say(f"The tests of chapter {chapter.number} CRASHED {where} ({how}). {passed} of {total} tests passed, "
            f"{total - len(cases)} did not run.\nYour code stopped the test program: for example std::abort(), an "
            f"exception that leaves a noexcept function, or a bad memory access. Next step: see the whole output "
            f"with ./course check {chapter.number} --verbose, or find the line with gdb: "
            f"gdb -ex run -ex bt --args {exe.relative_to(ROOT)} \"{spec or prefix.strip()}\"")
    if crashes:
        return 1
    if passed == len(cases) == total and cases:
        say(f"All {total} tests of chapter {chapter.number} pass. Well done!")
        if following := next((c for c in CHAPTERS if c.number == chapter.number + 1 and c.written), None):
            say(f"Next: chapters/{following.folder}/README.md")
        return 0
    failing = [c for c in cases if not c.passed and c.first_failure]
    wrong = next((c for c in failing if not c.first_failure.startswith("TODO(")), None)
    say(f"{passed} of {total} tests pass.")
    if failing:
        say(f"Next step: fix '{wrong.name}': {wrong.first_failure.splitlines()[0]}" if wrong else
            f"Next step: {failing[0].first_failure.splitlines()[0]}")
    say(f"All details: ./course check {chapter.number} --verbose   (same as: ctest --preset learner "
        f"-L '^{chapter.tag}$' --output-on-failure)   Stuck? ./course hint {chapter.number}")
    return 1


def record(chapter: Chapter, **check) -> None:
    """Keeps a check's result (passed, total, compiled, crashed) with the hash of the files it checked."""
    state = load_state()
    when = datetime.now(timezone.utc).isoformat(timespec="seconds")
    state.setdefault("checks", {})[chapter.tag] = {**check, "files": chapter_hash(chapter), "when": when}
    save_state(state)


def cmd_progress(args) -> int:
    out = run([sys.executable, "-m", "checks.skeletons", "status"], capture_output=True, text=True)
    if out.returncode != 0:
        raise CourseError(f"could not read the exercises: {out.stderr.strip()}")
    exercises, checks = json.loads(out.stdout), load_state().get("checks", {})
    say("Chapter                                                     Status")
    for chapter in CHAPTERS:
        ex = exercises.get(chapter.folder, {"exercises": 0, "untouched": 0})
        total, left = ex["exercises"], ex["untouched"]
        todos = f"{left} of {total} TODOs left"
        check = checks.get(chapter.tag)
        if not chapter.written:
            status = "not written yet"
        elif check is None:
            status = f"not started ({todos})" if left == total else f"in progress, not checked yet ({todos})"
        elif check["files"] != chapter_hash(chapter):
            status = f"changed since the last check ({todos}); run ./course check {chapter.number}"
        elif not check["compiled"]:
            status = f"does not compile ({todos})"
        elif check.get("crashed"):
            status = f"failing: crashed in '{check['crashed']}' ({todos})"
        elif check["passed"] == check["total"] and check["total"] > 0:
            status = f"passed ({check['total']} tests)"
        else:
            status = f"failing: {check['total'] - check['passed']} of {check['total']} tests ({todos})"
        say(f"  {f'{chapter.number}. {chapter.title}':<58} {status}")
    return 0


def cmd_hint(args) -> int:
    """The state keeps, per chapter, how many steps of each topic were shown and which topic was chosen last:
    `./course hint 5 padding` chooses a topic, and a later `./course hint 5` goes on with it."""
    chapter = chapter_by_number(args.chapter)
    path = ROOT / "chapters" / chapter.folder / "hints.md"
    if not path.exists():
        raise CourseError(f"chapter {chapter.number} has no hints file ({path.relative_to(ROOT)})")
    try:
        topics = hints.parse(path.read_text(), str(path.relative_to(ROOT)))
    except ValueError as e:
        raise CourseError(str(e)) from None
    state = load_state()
    saved = state.setdefault("hints", {}).get(chapter.tag)  # an older ./course kept a number; --reset forgets all
    mine = state["hints"][chapter.tag] = saved if isinstance(saved, dict) and not args.reset else {}
    seen: dict[str, int] = mine.setdefault("seen", {})
    command = f"./course hint {chapter.number}"

    def show(index: int, steps: range) -> None:
        topic = topics[index]
        say(f"Hint {index + 1} of {len(topics)} for chapter {chapter.number}: {topic.title}")
        for step in steps:
            say(f"\nStep {step + 1} of {len(topic.steps)}\n\n{topic.steps[step]}")
        say("")

    def listed(indices, info=lambda topic: "") -> str:
        return "\n".join(f"  {i + 1:2}. {topics[i].title}{info(topics[i])}" for i in indices)

    if args.reset:
        save_state(state)
        say(f"course: hints of chapter {chapter.number} start again from hint 1, step 1")
        return 0
    if args.list:
        say(f"The hints of chapter {chapter.number} ({command} NUMBER or {command} WORDS shows one):")
        say(listed(range(len(topics)), lambda t: f"  ({seen[t.title]} of {len(t.steps)} steps seen)"
                   if seen.get(t.title) else f"  ({len(t.steps)} steps)"))
        return 0
    if args.words:
        chosen = hints.choose(topics, args.words)
        asked = " ".join(args.words)
        if not chosen:
            raise CourseError(f"no hint of chapter {chapter.number} has '{asked}' in its title or text. Its hints:\n"
                              f"{listed(range(len(topics)))}\nGive a number ({command} 2) or other words.")
        if len(chosen) > 1:
            say(f"{len(chosen)} hints of chapter {chapter.number} have '{asked}':\n{listed(chosen)}\n"
                f"Add a word, or give the number: {command} {chosen[0] + 1}")
            return 0
        index = chosen[0]
    elif args.all:
        shown = [i for i, topic in enumerate(topics) if seen.get(topic.title)]
        if not shown:
            say(f"No hint of chapter {chapter.number} was shown yet. {command} shows the first one.")
        for i in shown:
            show(i, range(seen[topics[i].title]))
        return 0
    else:
        # go on with the topic chosen last; else the first one with steps not yet seen
        left = [i for i, topic in enumerate(topics) if seen.get(topic.title, 0) < len(topic.steps)]
        if not left:
            say(f"You have seen every step of all {len(topics)} hints of chapter {chapter.number}.\n"
                f"{command} --list lists them, {command} NUMBER shows one again, {command} --reset starts over.")
            return 0
        index = next((i for i in left if topics[i].title == mine.get("current")), left[0])
    topic = topics[index]
    done = seen.get(topic.title, 0)
    mine["current"] = topic.title
    if args.all:  # with words: the steps of that hint seen so far, at least its first
        steps = range(max(done, 1))
    elif done >= len(topic.steps):
        say(f"(You have seen all {len(topic.steps)} steps of this hint; here they are again.)\n")
        steps = range(len(topic.steps))
    else:
        steps = range(done, done + 1)
    show(index, steps)
    seen[topic.title] = done = max(done, steps.stop)
    save_state(state)
    if done < len(topic.steps):
        say(f"(Try it first. {command} again shows step {done + 1} of this hint; {command} --list lists all "
            f"{len(topics)} hints.)")
    elif not args.words and index + 1 < len(topics):
        say(f"(That was the last step of this hint. {command} goes on with the next hint; {command} --list "
            "lists them all.)")
    return 0


# the programs: train, experiments, bench, figures, start ---------------------------------------------
def prepare_data(*sets: str) -> None:
    """datasets/prepare.py for each set ("subset", "mnist"): once they are there, it only checks them."""
    for name in sets:
        if run([sys.executable, "-m", "datasets.prepare", "--set", name]).returncode != 0:
            raise CourseError(f"the MNIST digits ({name}) could not be prepared (see above)")


def data_sets_for(extra: list[str]) -> tuple[str, ...]:
    """The data sets a training run needs prepared: the one --data names, both when it is not given (the
    program's default depends on its engine: the full set for the fast path, the subset for the layers)."""
    for i, arg in enumerate(extra):
        value = extra[i + 1] if arg == "--data" and i + 1 < len(extra) else arg.partition("=")[2]
        if arg == "--data" or arg.startswith("--data="):
            return {"mnist": ("mnist",), "mnist-subset": ("subset",)}.get(value, ())
    return ("subset", "mnist")


def build_program(preset: str, target: str, folder: str = "programs/{}") -> str:
    """Builds target on the preset's track; the path of its executable, build/PRESET/FOLDER/TARGET ({}: TARGET)."""
    if not built(preset, target, f"{target} on the {preset} track"):
        hint = (" Your chapters must compile first: ./course check N shows where." if preset == "learner" else "")
        raise CourseError(f"{target} does not build on the {preset} track (see above).{hint}")
    return str(ROOT / "build" / preset / folder.format(target) / target)


def cmd_train(args) -> int:
    prepare_data(*data_sets_for(args.extra))
    cmd = [build_program(args.track, "train"), *args.extra]
    say(f"course: {' '.join(str(Path(c).relative_to(ROOT)) if c.startswith(str(ROOT)) else c for c in cmd)}")
    return run(cmd).returncode


def cmd_experiments(args) -> int:
    prepare_data("subset")
    return run([build_program(args.track, "experiments"), *args.extra]).returncode


def cmd_bench(args) -> int:
    """Training throughput of the reference: the readable layers, the fast path, and libtorch if installed."""
    env = dict(os.environ, **({"OPENBLAS_CORETYPE": args.coretype} if args.coretype else {}))
    return run([build_program("reference", "bench_train", "bench"), *args.extra], env=env).returncode


def cmd_figures(args) -> int:
    """Draws every chapter figure from the reference's numbers (programs/figures, figures.hpp says how)."""
    cmd = [build_program("reference", "figures"), "--write", *args.extra]
    say(f"course: {' '.join([str(Path(cmd[0]).relative_to(ROOT)), *cmd[1:]])}")
    if (code := run(cmd).returncode) != 0:
        return code
    say("\ncourse: the figures are in chapters/NN_name/figures/ (SVG and animated GIF), and the checksums of "
        "their sources\nin programs/figures/sources.txt. Commit both: GitHub shows the committed files in the "
        "chapters,\nand the suite's figure check (figures --check) compares them with the reference.")
    return 0


def cmd_start(args) -> int:
    """The README's first command: from a fresh machine to a trained LeNet and the book with all its figures:
    the training program's (chapter 7) and the experiments' (chapter 8), so that no figure is missing."""
    for preset in ("learner", "reference"):
        ensure_configured(preset)
    prepare_data("subset", "mnist")  # the full set for this run, the subset for the experiments and your layers
    if (code := run([build_program("reference", "train"), *args.extra]).returncode) != 0:
        return code
    experiments = build_program("reference", "experiments")
    say("course: chapter 8's experiments, for the book's figures (about 2 minutes)")
    if (code := run([experiments]).returncode) != 0:
        return code
    cmd_book(args)
    say("\ncourse: that was the reference solution. Now build your own: read chapters/01_backprop_1d/README.md "
        "(or the book), then run ./course check 1")
    return 0


# test, book and fuzz: the course's own checks --------------------------------------------------------
def cmd_test(args) -> int:
    system, _ = this_system()
    if missing := missing_packages(packages_for(system)) if system in TESTED else []:
        raise CourseError(f"missing Debian packages: {' '.join(missing)}; run ./course setup first")
    configure("reference", quiet=False)
    if run(["cmake", "--build", "--preset", "reference"]).returncode != 0:
        raise CourseError("the reference track does not build with warnings as errors (see above)")
    # The test presets of CMakePresets.json: "reference" runs everything, "quick" leaves out the mutation check,
    # the sanitizers and the fuzzers (cmake --workflow --preset quick does the same from plain CMake).
    cmd = ["ctest", "--preset", "quick" if args.quick else "reference", "--no-label-summary",
           "--parallel", str(args.jobs)]
    say(f"course: {' '.join(cmd)}")
    return run(cmd).returncode


def cmd_book(args) -> int:
    if not built("reference", "book", "the book with Doxygen on the reference track (warnings are errors)"):
        raise CourseError("the book does not build: Doxygen's messages above name the file and line "
                          "(book/README.md has the rules for chapter authors)")
    html = ROOT / "build" / "reference" / "book" / "html"
    if run([sys.executable, "-m", "book.check", "--html", str(html)]).returncode != 0:
        raise CourseError("the book's HTML check failed (see above; book/README.md explains each rule)")
    index = html / "index.html"
    say(f"\nThe book: {index.relative_to(ROOT)}\nIt needs no network. Open it in a browser: "
        f"xdg-open {index.relative_to(ROOT)}   (or the address file://{index})")
    return 0


def cmd_fuzz(args) -> int:
    """The fuzzers of the IDX reader and the weights loader, for a bounded time each: the presets "fuzz" of
    fuzz/CMakePresets.json (build/fuzz), with the time given (a workflow preset takes no -D)."""
    install_missing()
    for cmd in (["cmake", "--preset", "fuzz", f"-DCOURSE_FUZZ_SECONDS={args.seconds}"],
                ["cmake", "--build", "--preset", "fuzz"], ["ctest", "--preset", "fuzz"]):
        if subprocess.run(cmd, cwd=ROOT / "fuzz").returncode != 0:
            return 1
    log = (ROOT / "build" / "fuzz" / "Testing" / "Temporary" / "LastTest.log").read_text(errors="replace")
    stats = r"^(?:\d+/\d+ Test: .*fuzz for.*|stat::(?:number_of_executed_units|average_exec_per_sec).*)$"
    for line in re.findall(stats, log, re.M):  # each fuzz test's name, then libFuzzer's final statistics
        say(line)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="./course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(func=lambda args: parser.print_help() or 0, program=False)  # no command, or help
    sub = parser.add_subparsers(dest="command", metavar="command")
    track = dict(choices=["reference", "learner"], default="reference")

    # program: it runs a program of the course: what is missing is installed first, unknown options go to it
    def command(name: str, func, help: str, program: bool = False, **kwargs) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, **kwargs)
        p.set_defaults(func=func, program=program)
        return p
    p = command("setup", cmd_setup, "install missing Debian packages, then configure both tracks")
    p.add_argument("--no-install", action="store_true", help="do not run apt-get; only configure")
    p = command("check", cmd_check, "build and run chapter N's tests against your code")
    p.add_argument("chapter", metavar="N")
    p.add_argument("--verbose", "-v", action="store_true", help="show Catch2's full output")
    command("progress", cmd_progress, "one line per chapter")
    p = command("hint", cmd_hint, "the next step of a hint of chapter N",
                description="Each hint of a chapter has two or three steps, from a question to nearly the "
                            "answer. ./course hint 5 shows the next step; ./course hint 5 padding chooses the "
                            "hint whose title has that word; ./course hint 5 --list lists the hints.")
    p.add_argument("chapter", metavar="N")
    p.add_argument("words", nargs="*", metavar="WORDS",
                   help="choose a hint: its number in --list, or words of its title")
    p.add_argument("--list", action="store_true", help="list the hints and the steps seen of each")
    p.add_argument("--all", action="store_true", help="show every step seen so far (of the chosen hint)")
    p.add_argument("--reset", action="store_true", help="start again from hint 1, step 1")
    p = command("test", cmd_test, "the full test suite (what CI runs)")
    p.add_argument("--jobs", type=int, default=2, help="tests run in parallel (default 2)")
    p.add_argument("--quick", action="store_true",
                   help="every chapter on both tracks, the book and the training program, without the mutation "
                        "check, the sanitizers and the fuzzers (a few minutes)")
    command("book", cmd_book, "build the course book (HTML, opens offline) from the chapters")
    p = command("fuzz", cmd_fuzz, "fuzz the IDX reader and the weights loader (libFuzzer, clang)")
    p.add_argument("--seconds", type=int, default=60, help="fuzzing time per target (default 60)")
    p = command("train", cmd_train, "train LeNet on real MNIST digits (options after -- go to the program)", True,
                description="Installs what is missing, prepares the MNIST digits, builds the training "
                            "program and runs it. Options the program understands (see ./course train -- --help) "
                            "may follow, e.g. ./course train --epochs 5 or ./course train --track learner.")
    p.add_argument("--track", **track, help="train the reference solution (default) or your own layers")
    command("start", cmd_start, "the first command on a fresh machine: install, prepare the data, train LeNet, "
                                "run chapter 8's experiments, build the book", True)
    command("figures", cmd_figures, "draw the chapters' figures from the reference (programs/figures); further "
                                    "options go to the program, e.g. --only 05_conv2d", True,
            description="Builds programs/figures on the reference track and runs figures --write: every figure "
                        "is drawn again into chapters/NN_name/figures/, and programs/figures/sources.txt records "
                        "its source. Commit both.")
    p = command("experiments", cmd_experiments, "chapter 8's experiments: initialization, momentum, schedules "
                                                "(2 minutes)", True)
    p.add_argument("--track", **track, help="run them on the reference solution (default) or your own code")
    p = command("bench", cmd_bench, "training throughput of the reference (and of libtorch, when installed)", True)
    p.add_argument("--coretype", help="set OPENBLAS_CORETYPE (for example Haswell or SkylakeX) for this run")
    sub.add_parser("help", help="show this help")
    args, extra = parser.parse_known_args()
    if extra and not args.program:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra[1:] if extra[:1] == ["--"] else extra
    try:
        if args.program:
            install_missing()
        return args.func(args)
    except CourseError as e:
        print(f"course: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output went into `head` or similar, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
