"""Tests of ./course (cli/course.py, cli/packages.txt), run as python3 -m cli.test_cli. SystemTest needs no
build and never runs apt-get; LearnerTest runs ./course in a temporary copy of the repository with untouched
skeletons (about two minutes: it configures the learner track, builds chapter 1 four times, chapter 3 once).
"""
import argparse
import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from checks import catch_report
from cli import course, hints


def output_of(func, *args, **patches) -> tuple[object, str]:
    """What func returns and prints while patches replace attributes of cli.course (mock.DEFAULT: a MagicMock)."""
    out = io.StringIO()
    with mock.patch.multiple(course, **patches), contextlib.redirect_stdout(out):
        return func(*args), out.getvalue()


class SystemTest(unittest.TestCase):
    def this_system(self, os_release: str) -> tuple[str, str]:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "os-release").write_text(os_release)
            return course.this_system(Path(tmp) / "os-release")

    def test_debian_12_and_13_and_ubuntu_are_told_apart(self):
        for os_release, expected in (
                ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
                 ("debian-12", "Debian GNU/Linux 12 (bookworm)")),
                ('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nID=debian\n',
                 ("debian-13", "Debian GNU/Linux 13 (trixie)")),
                ('NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 24.04.1 LTS"\n',
                 ("ubuntu-24.04", "Ubuntu 24.04.1 LTS"))):
            self.assertEqual(self.this_system(os_release), expected)

    def test_train_prepares_the_data_set_it_is_given_and_both_when_the_program_chooses(self):
        for extra, sets in ((["--epochs", "3"], ("subset", "mnist")), (["--data", "mnist"], ("mnist",)),
                            (["--data=mnist-subset", "--epochs", "1"], ("subset",)),
                            (["--data", "fashion"], ()),  # Debian's package, nothing to prepare
                            (["--data", "/some/folder"], ())):
            self.assertEqual(course.data_sets_for(extra), sets, extra)

    def test_debian_testing_without_a_version_is_not_a_tested_release(self):
        system, _ = self.this_system('PRETTY_NAME="Debian GNU/Linux forky/sid"\nID=debian\nVERSION_CODENAME=forky\n')
        self.assertNotIn(system, course.TESTED)
        self.assertEqual(course.column_for(system), "debian-13")


class ChapterTextTest(unittest.TestCase):
    """What the texts promise: a chapter README's `All N tests of chapter K pass`, N as CTest counts; and no
    Markdown file or C++ comment names a place as file:line, which goes stale."""

    @unittest.skipUnless(os.environ.get("COURSE_REFERENCE_BUILD"), "COURSE_REFERENCE_BUILD is not set (CTest sets it)")
    def test_each_readme_names_the_number_of_tests_its_chapter_has(self):
        for chapter in course.CHAPTERS:  # in the build that tests/CMakeLists.txt names
            listing = subprocess.run(["ctest", "--test-dir", os.environ["COURSE_REFERENCE_BUILD"], "-N", "-L",
                                      f"^{chapter.tag}$"], capture_output=True, text=True, check=True).stdout
            total = int(re.search(r"Total Tests: (\d+)", listing).group(1))
            text = (course.ROOT / "chapters" / chapter.folder / "README.md").read_text(encoding="utf-8")
            said = re.findall(rf"All (\d+) tests of chapter {chapter.number} pass|0 tests failed out of (\d+)", text)
            self.assertTrue(said, f"{chapter.folder}/README.md does not say how many tests the chapter has")
            for numbers in said:
                self.assertEqual(int("".join(numbers)), total, f"chapters/{chapter.folder}/README.md says "
                                 f"{''.join(numbers)} tests, but CTest has {total} for {chapter.tag}")

    # name.hpp:123 in a text goes stale as soon as the file changes above that line: name the function or the
    # section instead. A program's output may show such a place, with a placeholder (backprop_1d.hpp:LINE).
    LINE_REFERENCE = re.compile(r"\b[\w.-]+\.(?:hpp|cpp|h|py|md|txt|toml|cmake|json|sh):\d+")
    SKIPPED = {"build", "data", "node_modules", ".git", ".course", "__pycache__"}

    @staticmethod
    def cpp_comments(text: str) -> list[tuple[int, str]]:
        """(line, text) of every // and /* */ comment of a C++ file; string and character literals are skipped."""
        matches = re.finditer(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|//[^\n]*|/\*.*?\*/', text, re.S)
        return [(text.count("\n", 0, m.start()) + 1, m.group()) for m in matches if m.group().startswith("/")]

    def test_no_markdown_file_or_cpp_comment_cites_a_line_number(self):
        places = []
        for folder, folders, names in os.walk(course.ROOT):
            folders[:] = sorted(f for f in folders if f not in self.SKIPPED and not f.startswith("build"))
            for path in sorted(Path(folder) / n for n in names if n.endswith((".md", ".hpp", ".cpp", ".h"))):
                text = path.read_text(encoding="utf-8", errors="replace")
                texts = enumerate(text.splitlines(), start=1) if path.suffix == ".md" else self.cpp_comments(text)
                places += [f"{path.relative_to(course.ROOT)}:{number}: {m.group()}"
                           for number, part in texts for m in self.LINE_REFERENCE.finditer(part)]
        self.assertEqual(places, [], "these texts name a line number, which goes stale when the file changes: "
                                     "name the function or the section instead (for a program's output, write "
                                     "LINE for the number)")

    def test_the_line_number_check_finds_comments_and_skips_strings(self):
        text = 'int a = 1;  // see x.hpp:12\nauto s = "y.cpp:3 // z.hpp:4";\n/* w.hpp:5\n */ char c = \'"\';\n'
        comments = self.cpp_comments(text)
        self.assertEqual([(n, m.group()) for n, c in comments for m in self.LINE_REFERENCE.finditer(c)],
                         [(1, "x.hpp:12"), (3, "w.hpp:5")])
        self.assertIsNone(self.LINE_REFERENCE.search("backprop_1d.hpp:LINE and README.md, section 3"))


class StartAndFiguresTest(unittest.TestCase):
    """What ./course start and ./course figures run, in which order (mocked: nothing is built or run)."""

    def commands(self, func, *extra: str) -> tuple[list[str], str]:
        ran = []

        def run(cmd, **kwargs):
            ran.append(" ".join(str(Path(c).relative_to(course.ROOT)) if str(c).startswith(str(course.ROOT)) else c
                                for c in cmd))
            return subprocess.CompletedProcess(cmd, 0)
        returned, said = output_of(func, argparse.Namespace(extra=list(extra)), run=run, built=lambda *_: True,
                                   ensure_configured=mock.DEFAULT, prepare_data=mock.DEFAULT,
                                   cmd_book=lambda args: ran.append("book") or 0)
        self.assertEqual(returned, 0)
        return ran, said

    def test_start_trains_then_runs_the_experiments_then_builds_the_book(self):
        ran, _ = self.commands(course.cmd_start, "--epochs", "2")
        self.assertEqual(ran, ["build/reference/programs/train/train --epochs 2",
                               "build/reference/programs/experiments/experiments", "book"])

    def test_figures_writes_them_all_and_says_to_commit_them(self):
        ran, said = self.commands(course.cmd_figures, "--only", "05_conv2d")
        self.assertEqual(ran, ["build/reference/programs/figures/figures --write --only 05_conv2d"])
        self.assertIn("chapters/NN_name/figures/", said)
        self.assertIn("Commit both", said)


class PackageTableTest(unittest.TestCase):
    def test_every_need_has_a_package_on_both_tested_releases(self):
        needs = course.package_table()
        self.assertGreater(len(needs), 15)
        for need in needs:
            for system in course.TESTED:
                self.assertNotEqual(need.packages[system], "-", f"{need.name} has no package on {system}")

    def test_the_releases_differ_where_debian_renamed_a_package(self):
        by_need = {need.name: need.packages for need in course.package_table()}
        for need, *names in (("clang-runtime", "libclang-rt-14-dev", "libclang-rt-dev"),
                             ("catch2", "catch2", "libcatch2-dev")):
            self.assertEqual([by_need[need]["debian-12"], by_need[need]["debian-13"]], names, need)

    def test_an_if_missing_package_is_left_out_when_its_command_exists(self):
        for which, wanted in (("/usr/bin/npm", False), (None, True)):
            with mock.patch.object(course.shutil, "which", return_value=which):
                self.assertEqual("npm" in course.packages_for("debian-13"), wanted, which)

    def test_a_line_with_a_missing_column_is_an_error_naming_the_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            table = Path(tmp) / "packages.txt"
            table.write_text("# comment\ncompiler g++ g++ g++ gcc\ncmake cmake cmake cmake\n")
            with mock.patch.object(course, "PACKAGES_FILE", table), self.assertRaises(course.CourseError) as raised:
                course.package_table()
        self.assertIn("packages.txt:3: expected a need and 4 package names", str(raised.exception))


class InstallTest(unittest.TestCase):
    def test_an_untested_system_names_its_packages_or_debian_13s_and_installs_nothing(self):
        refuse = mock.Mock(side_effect=AssertionError("apt-get must not run on an untested system"))
        for system, wanted in ((("ubuntu-24.04", "Ubuntu 24.04.1 LTS"), [
                                   "this is Ubuntu 24.04.1 LTS, which the course does not test; it installs nothing "
                                   "here", "libclang-rt-18-dev", 'README.md, section "Other systems"']),
                               (("fedora-41", "Fedora Linux 41"), ["(debian-13 names", "libcatch2-dev"])):
            _, said = output_of(course.install_missing, this_system=lambda: system, apt_install=refuse)
            for text in wanted:
                self.assertIn(text, said, system)

    def test_the_commands_that_run_a_program_install_what_is_missing_first_and_the_others_do_not(self):
        for argv, installs in ((["bench", "--", "--x"], True), (["figures"], True), (["progress"], False)):
            calls = mock.Mock(return_value=0)  # install_missing() first, then the command with its arguments
            with mock.patch.object(sys, "argv", ["./course", *argv]):
                output_of(course.main, install_missing=calls, cmd_bench=calls, cmd_figures=calls, cmd_progress=calls)
            self.assertEqual([c == mock.call() for c in calls.mock_calls], [True] * installs + [False], argv)


class CheckReportTest(unittest.TestCase):
    """What ./course check reads, without a build: the float executable, a report cut short, xtensor's message."""

    def test_the_float_executable_runs_its_float_cases_once_the_build_made_it(self):
        with tempfile.TemporaryDirectory() as tmp, mock.patch.object(course, "ROOT", Path(tmp)):
            self.assertEqual(len(course.test_executables(course.CHAPTERS[0])), 1)
            (Path(tmp) / "build/learner/tests").mkdir(parents=True)
            (Path(tmp) / "build/learner/tests/test_ch01_float").touch()
            exe, spec, prefix = course.test_executables(course.CHAPTERS[0])[1]
            self.assertEqual((exe.name, spec, prefix), ("test_ch01_float", "[float]", "[float] "))

    def test_check_configures_again_a_folder_that_an_older_course_configured_without_tests_chNN(self):
        configure = mock.Mock()
        patches = dict(configure=configure, record=mock.DEFAULT, chapter_by_number=lambda _: course.CHAPTERS[0],
                       run=lambda cmd: subprocess.CompletedProcess(cmd, 2))  # and the build fails
        with tempfile.TemporaryDirectory() as tmp, mock.patch.object(course, "ROOT", Path(tmp)):
            for known in ("CMakeCache.txt", "tests/CMakeFiles/tests_ch01.dir"):  # configure, then not again
                (Path(tmp) / "build/learner" / known).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / "build/learner" / known).touch()
                output_of(course.cmd_check, argparse.Namespace(chapter="1"), **patches)
        configure.assert_called_once_with("learner")

    def test_a_report_gives_each_case_its_first_failure_and_names_the_case_the_executable_died_in(self):
        passed = '<TestCase name="a"><OverallResult success="true"/></TestCase>'
        failed = ('<TestCase name="b"><Info>n = 2</Info><Expression success="false" type="CHECK" filename="/t/x.cpp" '
                  'line="7"><Original>a == b</Original><Expanded>1 == 2</Expanded></Expression><OverallResult '
                  'success="false"/></TestCase>')
        for case, xml, code, cases, crash in (
                ("a complete report of Catch2 2", f"<Catch>{passed}{failed}</Catch>", 1,
                 [("a", True, ""), ("b", False, "x.cpp:7: CHECK( a == b )\n1 == 2\nwith: n = 2")], (False, None, "")),
                ("a complete report of Catch2 3", f"<Catch2TestRun>{passed}</Catch2TestRun>", 0, [("a", True, "")],
                 (False, None, "")),
                ("a report cut short, and xtensor's Dot with a hint", '<Catch><Group><TestCase name="a"><Expression '
                 'success="false"><Exception>Dot: shape mismatch.</Exception></Expression><OverallResult/></TestCase>'
                 '<TestCase name="b"><Expression success="false">', -11,
                 [("a", False, "Dot: shape mismatch.\n" + catch_report.DOT_HINT),
                  ("b", False, "(the test executable died in this test)")], (True, "b", "SIGSEGV")),
                ("a signal that Catch2 caught and reported", '<Catch><TestCase name="c"><FatalErrorCondition>SIGSEGV - '
                 'Segmentation violation signal</FatalErrorCondition><OverallResult success="false"/></TestCase>'
                 '</Catch>', 1, [("c", False, "SIGSEGV - Segmentation violation signal")], (True, "c", "SIGSEGV"))):
            with self.subTest(case):
                run = catch_report.read_report(xml.encode(), subprocess.CompletedProcess([], code))
                self.assertEqual([(c.name, c.passed, c.first_failure) for c in run.cases], cases)
                self.assertEqual((run.crashed, run.crashed_in, run.signal), crash)


class HintsTest(unittest.TestCase):
    """cli/hints.py on every chapter's hints.md, and on small made-up files."""

    def test_every_hints_file_has_topics_of_one_to_four_steps_and_no_tex_which_a_terminal_cannot_show(self):
        for path in sorted((course.ROOT / "chapters").glob("*/hints.md")):
            with self.subTest(path.parent.name):
                topics = hints.parse(path.read_text(), str(path))
                self.assertGreaterEqual(len(topics), 3)
                for topic in topics:
                    self.assertTrue(1 <= len(topic.steps) <= 4, topic.title)
                    for text in (topic.title, *topic.steps):
                        self.assertNotRegex(text, r"\$|\\[A-Za-z]|\\[,;:!{}]", topic.title)
                        self.assertNotIn("<!--", text, topic.title)

    def test_steps_and_topics_are_split_and_an_empty_step_is_an_error(self):
        topics = hints.parse("# Hints\nintro\n## First\nask\n<!-- next -->\nanswer\n## Second one\nonly\n", "x.md")
        self.assertEqual(topics, [hints.Topic("First", ("ask", "answer")), hints.Topic("Second one", ("only",))])
        for words, chosen in ((["2"], [1]), (["3"], []), (["0"], []), (["ONE"], [1]),
                              (["answer"], [0])):  # no title has it: the steps are read
            self.assertEqual(hints.choose(topics, words), chosen, words)
        for text, error in (("## First\nask\n<!-- next -->\n\n<!-- next -->\nend\n",
                             "x.md: the hint 'First' has an empty step"), ("just text\n", "no '## ' hint sections")):
            with self.assertRaisesRegex(ValueError, error):
                hints.parse(text, "x.md")


class LearnerTest(unittest.TestCase):
    """check, progress and hint, in the order a learner meets them."""

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="course-cli-")
        cls.addClassCleanup(tmp.cleanup)
        cls.root = Path(tmp.name) / "course"
        # the working tree as git sees it: what .gitignore names stays out (builds, data, the learner's state)
        shutil.copytree(course.ROOT, cls.root, ignore=shutil.ignore_patterns(".git", "build", ".course", "data",
                                                                             "__pycache__"))
        subprocess.run(["sh", "-n", str(cls.root / "course")], check=True)  # the shim is valid shell at all
        run = subprocess.run([sys.executable, "-m", "checks.skeletons", "write", "--force"], cwd=cls.root,
                             env={**os.environ, "PYTHONPATH": str(cls.root)}, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr

    def course(self, *args: str, returncode: int | None = None) -> subprocess.CompletedProcess:
        run = subprocess.run([str(self.root / "course"), *args], cwd=self.root, capture_output=True, text=True)
        if returncode is not None:
            self.assertEqual(run.returncode, returncode, run.stdout + run.stderr)
        return run

    def hints_of(self, folder: str) -> list[hints.Topic]:
        return hints.parse((self.root / "chapters" / folder / "hints.md").read_text(), folder)

    def test_1_check_on_the_untouched_skeleton_fails_and_names_the_first_todo(self):
        said = self.course("check", "1", returncode=1).stdout
        passed, total = map(int, re.search(r"(\d+) of (\d+) tests pass", said).groups())
        self.assertLess(passed, total)  # only the [given] tests pass on a skeleton
        self.assertRegex(said, r"Next step: TODO\(ch01\): implement \w+ in chapters/01_backprop_1d/\S+:\d+")
        self.assertNotIn("Next step: fix", said)  # every failure is a TODO
        self.assertIn("FAIL  the loss node gives dL/dy", said)

    def test_1a_check_builds_and_runs_the_float_tests_of_a_chapter_that_has_them(self):
        said = self.course("check", "3", returncode=1).stdout  # one build of tests_ch03: both executables
        self.assertIn("FAIL  [float] ", said)
        readme = (self.root / "chapters" / "03_activations" / "README.md").read_text(encoding="utf-8")
        counted = re.search(r"of (\d+) tests pass", said)[1]
        self.assertEqual(counted, re.search(r"All (\d+) tests of chapter", readme)[1])  # [float] ones included

    def test_2_progress_shows_the_last_check_and_the_todos_left(self):
        said = self.course("progress").stdout
        self.assertRegex(said, r"1\. .*failing: \d+ of \d+ tests \(\d+ of \d+ TODOs left\)")
        self.assertRegex(said, r"2\. .*not started")

    def test_3_hint_shows_one_step_more_each_time_and_starts_again_after_reset(self):
        topics = self.hints_of("01_backprop_1d")
        first = topics[0]
        for step in range(len(first.steps)):
            said = self.course("hint", "1").stdout
            self.assertIn(f"Hint 1 of {len(topics)} for chapter 1: {first.title}", said)
            self.assertIn(f"Step {step + 1} of {len(first.steps)}", said)
            self.assertNotIn(f"Step {step + 2} of", said)  # one step at a time
            self.assertNotIn("<!-- next -->", said)
        self.assertIn(f"Hint 2 of {len(topics)}", self.course("hint", "1").stdout)  # then the next hint
        state = json.loads((self.root / ".course" / "state.json").read_text())["hints"]["ch01"]
        self.assertEqual(state["seen"], {first.title: len(first.steps), topics[1].title: 1})
        self.assertIn(f"1 of {len(topics[1].steps)} steps seen", self.course("hint", "1", "--list").stdout)
        self.assertIn("start again from hint 1", self.course("hint", "1", "--reset").stdout)
        self.assertIn("Step 1 of", self.course("hint", "1").stdout)

    def test_3_hint_chooses_a_hint_by_its_number_or_words_and_goes_on_with_it(self):
        topics = self.hints_of("05_conv2d")
        last = topics[-1]
        chosen = self.course("hint", "5", str(len(topics))).stdout
        self.assertIn(f"Hint {len(topics)} of {len(topics)} for chapter 5: {last.title}", chosen)
        self.assertIn(f"Step 2 of {len(last.steps)}", self.course("hint", "5").stdout)  # the same hint goes on
        words = self.course("hint", "5", *last.title.split()[:1]).stdout  # its first word, "conv2d_backward_gemm:"
        self.assertIn(last.title, words)
        error = self.course("hint", "5", "no-such-word", returncode=2).stderr
        self.assertIn("no hint of chapter 5 has 'no-such-word'", error)
        self.assertIn(f"{len(topics):2}. {last.title}", error)  # and lists the hints to choose from
        self.assertNotIn("Traceback", error)

    WRONG = "return LinearScalarGrads{dy * x, dy * w, dy};  // dx and dw swapped"

    def edit_chapter_1(self, old: str, new: str) -> None:
        header = self.root / "chapters" / "01_backprop_1d" / "backprop_1d.hpp"
        header.write_text(header.read_text().replace(old, new))

    def test_3a_a_wrong_exercise_comes_before_the_todos_in_next_step(self):
        self.edit_chapter_1('course::todo("ch01", "linear_scalar_backward", "read README.md section 3");', self.WRONG)
        said = self.course("check", "1", returncode=1).stdout
        self.assertIn("FAIL  the loss node gives dL/dy", said)  # still a TODO, and the first failing test
        self.assertRegex(said, r"Next step: fix 'the linear node multiplies dy by its local derivatives': "
                               r"test_backprop_1d\.cpp:\d+: CHECK\( g\.dx == ")

    def test_3b_a_crash_is_reported_with_its_test_and_the_tests_that_did_not_run(self):
        self.edit_chapter_1(self.WRONG, "std::abort();  // compiles: abort never returns")
        said = self.course("check", "1", returncode=1).stdout
        crashed = re.search(r"CRASHED in the test 'the linear node multiplies dy by its local derivatives' "
                            r"\(signal SIGABRT\)\. 0 of (\d+) tests passed, (\d+) did not run", said)
        total, not_run = map(int, crashed.groups())
        self.assertEqual(not_run, total - 2)  # the TODO test before it and the crashed one ran
        self.assertIn("gdb -ex run -ex bt --args build/learner/tests/test_ch01", said)
        self.assertNotRegex(said, r"\d+ of \d+ tests pass\.")
        self.assertRegex(self.course("progress").stdout, r"1\. .*failing: crashed in 'the linear node")

    def test_4_check_passes_once_the_chapter_is_solved_and_progress_says_so(self):
        for path in (self.root / "solutions" / "01_backprop_1d").iterdir():
            shutil.copyfile(path, self.root / "chapters" / "01_backprop_1d" / path.name)  # new time, as an edit
        self.assertRegex(self.course("check", "1", returncode=0).stdout, r"All \d+ tests of chapter 1 pass")
        self.assertRegex(self.course("progress").stdout, r"1\. .*passed \(\d+ tests\)")

    def test_5_a_chapter_that_does_not_exist_is_named_in_the_error(self):
        error = self.course("check", "99", returncode=2).stderr
        self.assertIn("there is no chapter 99", error)
        self.assertNotIn("Traceback", error)


if __name__ == "__main__":
    unittest.main()
