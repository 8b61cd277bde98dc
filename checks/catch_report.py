"""Runs a Catch2 (2 or 3) test executable with its XML reporter and reads the report, also one cut short by a
crash: one result per test case (for ./course check and checks/mutations.py).
"""
import contextlib
import re
import signal
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

DOT_MISMATCH = "Dot: shape mismatch."  # all that xtensor's matrix product says: no function, name or shapes
DOT_HINT = "(a matrix product got shapes that do not fit: print the shapes of both operands)"


@dataclass
class CaseResult:
    name: str
    passed: bool
    first_failure: str  # the first failed check or exception, with its INFO context; "" when the case passed


@dataclass
class Run:
    """One run of a test executable: the cases that ran, and where and how it died if it did."""
    cases: list[CaseResult]
    process: subprocess.CompletedProcess
    crashed: bool = False
    crashed_in: str | None = None  # the test case the executable died in
    signal: str = ""               # for example "SIGABRT"


def first_failure(case: ET.Element) -> str:
    def results(element: ET.Element):  # in document order, without the children of an Expression (its Exception)
        for child in element:
            yield child
            if child.tag not in ("Expression", "Info"):
                yield from results(child)

    failures, context = [], []  # context: the INFO messages Catch2 writes just before the assertion they explain
    for element in results(case):
        if element.tag == "Info":
            context.append((element.text or "").strip())
        elif element.tag == "Expression":
            if element.get("success") == "false":
                where = f"{Path(element.get('filename', '?')).name}:{element.get('line', '?')}"
                inner = next((e for e in element if e.tag in ("Exception", "FatalErrorCondition")), None)
                original, expanded = (element.findtext(tag, "").strip() for tag in ("Original", "Expanded"))
                text = (inner.text or "").strip() if inner is not None else \
                    f"{where}: {element.get('type', 'CHECK')}( {original} )\n{expanded}"
                failures.append(text + ("\nwith: " + "; ".join(context) if context else ""))
            context = []
        elif element.tag in ("Exception", "FatalErrorCondition", "Failure") and element.text:
            failures.append(element.text.strip())
    failures = [f"{f}\n{DOT_HINT}" if f == DOT_MISMATCH else f for f in failures]
    more = f"\n(and {len(failures) - 1} more failed check(s) in this test)" if len(failures) > 1 else ""
    return failures[0] + more if failures else ""


def read_report(data: bytes, process: subprocess.CompletedProcess) -> Run:
    """Reads a report, also one that stops in the middle because the executable died while it wrote it."""
    parser = ET.XMLPullParser(("start", "end"))
    run, open_case, complete = Run([], process), None, False
    with contextlib.suppress(ET.ParseError):
        parser.feed(data)
        parser.close()
    for event, element in parser.read_events():
        complete = complete or (element.tag in ("Catch", "Catch2TestRun") and event == "end")  # Catch2 2, 3
        if element.tag != "TestCase":
            continue
        open_case = element.get("name", "?") if event == "start" else None
        if event == "end":
            passed = element.find("OverallResult[@success='true']") is not None
            run.cases.append(CaseResult(element.get("name", "?"), passed, first_failure(element)))
            fatal = element.find(".//FatalErrorCondition")
            if fatal is not None:  # Catch2 caught the signal, and reported it
                run.crashed_in = run.cases[-1].name
                run.signal = " ".join(re.findall(r"\bSIG[A-Z]+", fatal.text or ""))
    if open_case is not None:  # died inside a test case before Catch2 could report it
        run.crashed_in = open_case
        run.cases.append(CaseResult(open_case, False, "(the test executable died in this test)"))
    if not run.signal and -process.returncode in signal.valid_signals():
        run.signal = signal.Signals(-process.returncode).name
    run.crashed = process.returncode < 0 or not complete or run.crashed_in is not None
    return run


def run_tests(exe: Path, cwd: Path | str | None = None, timeout: float | None = None, spec: str | None = None) -> Run:
    """Runs `exe` (every test case, or those of the test spec `spec`) with the XML reporter into a temporary file.
    subprocess.TimeoutExpired propagates."""
    with tempfile.TemporaryDirectory(prefix="catch-report-") as tmp:
        report = Path(tmp) / "report.xml"
        run = subprocess.run([str(exe), *filter(None, [spec]), "-r", "xml", "-o", str(report)], capture_output=True,
                             text=True, cwd=cwd, timeout=timeout)
        return read_report(report.read_bytes() if report.exists() else b"", run)


def count_cases(exe: Path, spec: str | None = None) -> int | None:
    """How many test cases `exe` has (that `spec` selects), from its listing; None when it cannot list them."""
    out = subprocess.run([str(exe), "--list-tests", *filter(None, [spec])], capture_output=True, text=True).stdout
    return next((int(n) for n in re.findall(r"^\s*(\d+) (?:matching )?test cases?\s*$", out, re.M)[::-1]), None)
