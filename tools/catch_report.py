"""Runs a Catch2 test executable with its XML reporter and reads the report: one result per test case.
Catch2 2 and 3 write the same elements for what is read here (TestCase, Expression, Exception, Info, OverallResult).

Shared by `./course check` (tools/course.py), the pristine check (tools/pristine.py) and the mutation check
(tools/mutations.py), which all need to know which test cases of a chapter passed, and why one failed.
"""
from __future__ import annotations

import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CaseResult:
    name: str
    tags: str
    passed: bool
    first_failure: str  # the first failed check or exception, with its INFO context; "" when the case passed
    text: str           # every text of the case's report, on one line (for example to look for a TODO message)


def walk_results(element: ET.Element):
    """The result elements of a Catch2 XML test case in document order, without the children of an
    Expression (its Exception belongs to it)."""
    for child in element:
        yield child
        if child.tag not in ("Expression", "Info"):
            yield from walk_results(child)


def first_failure(case: ET.Element) -> str:
    failures: list[str] = []
    context: list[str] = []  # INFO messages, which Catch2 writes just before the assertion they explain
    for element in walk_results(case):
        if element.tag == "Info":
            context.append((element.text or "").strip())
        elif element.tag == "Expression":
            if element.get("success") == "false":
                where = f"{Path(element.get('filename', '?')).name}:{element.get('line', '?')}"
                exception = element.find("Exception")
                if exception is not None:
                    text = (exception.text or "").strip()
                else:
                    original = (element.findtext("Original") or "").strip()
                    expanded = (element.findtext("Expanded") or "").strip()
                    text = f"{where}: {element.get('type', 'CHECK')}( {original} )\n{expanded}"
                if context:
                    text += "\nwith: " + "; ".join(context)
                failures.append(text)
            context = []
        elif element.tag in ("Exception", "FatalErrorCondition", "Failure") and element.text:
            failures.append(element.text.strip())
    first = failures[0] if failures else ""
    if len(failures) > 1:
        first += f"\n(and {len(failures) - 1} more failed check(s) in this test)"
    return first


def parse_catch_xml(path: Path) -> list[CaseResult]:
    results = []
    for case in ET.parse(path).getroot().iter("TestCase"):
        overall = case.find("OverallResult")
        results.append(CaseResult(
            name=case.get("name", "?"),
            tags=case.get("tags", ""),
            passed=overall is not None and overall.get("success") == "true",
            first_failure=first_failure(case),
            text=" ".join(t.strip() for t in case.itertext() if t.strip()),
        ))
    return results


def run_catch(exe: Path, cwd: Path | str | None = None,
              timeout: float | None = None) -> tuple[list[CaseResult] | None, subprocess.CompletedProcess]:
    """Runs `exe` (every test case) with the XML reporter into a temporary file.

    Returns the test cases, or None when the run stopped before its report was complete (a crash), together
    with the finished process (its output and exit code). subprocess.TimeoutExpired propagates.
    """
    with tempfile.TemporaryDirectory(prefix="catch-report-") as tmp:
        report = Path(tmp) / "report.xml"
        run = subprocess.run([str(exe), "-r", "xml", "-o", str(report)], capture_output=True, text=True,
                             cwd=cwd, timeout=timeout)
        try:
            return parse_catch_xml(report), run
        except (ET.ParseError, FileNotFoundError):
            return None, run
