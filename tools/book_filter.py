#!/usr/bin/env python3
"""Doxygen input filter of the book: GitHub-style Markdown in, Doxygen Markdown out.

Doxygen runs it on every *.md file of the book (FILTER_PATTERNS in book/Doxyfile.in) as
`book_filter.py [--root DIR] [--build-dir DIR] FILE` and reads the result from stdout. The chapters are
written for GitHub; Doxygen 1.9.4 reads some of that differently (docs/toolchain.md). The rules, in order:

 1. Code is never touched: fenced blocks (``` or ~~~) and code spans (`...`). Only the delimiters
    change where Doxygen 1.9.4 misreads them: a code span with a ' inside gets two backticks (Doxygen
    reads `word' as quotes), and **bold** or *italic* text that holds math or code becomes <b> or <em>
    (Doxygen leaves the stars as they are).
 2. Math: `$...$` becomes `\\f$...\\f$` and `$$...$$` becomes `\\f[...\\f]`. A `$$` block on lines of
    its own becomes one line followed by blank lines (Doxygen miscounts the lines inside a formula). In a
    table row (a line that starts with `|`), `\\|` and `|` inside math become `\\vert`, because a bare `|`
    ends the table cell. Outside math, `\\{` and `\\}` become `{` and `}`: GitHub shows them so, while
    Doxygen silently drops the rest of the page at `\\{`. Straight double quotes in prose become &quot;,
    because Doxygen 1.9.4 runs no command inside "...", not even math.
 3. Headings: Doxygen 1.9.4 prints headings as plain text, so math in a heading becomes plain text
    (a few TeX commands become Unicode symbols, see HEADING_SYMBOLS) and backticks and `*` go.
    In a chapter README, the first line `# Chapter N: Title` gets the page label chNN, and every other
    heading the label chNN-<GitHub anchor>, so links written for GitHub work in the book too.
 4. Links: a link to a chapter's README.md (with or without #anchor) becomes a link to its page; a link to
    a chapter that does not exist yet becomes plain text; `#anchor` becomes a link to the section; a link
    to a header in chapters/ or common/ goes to its API reference page; a link to the top README.md goes to
    the front page; a link to any other file of the repository becomes plain text (the book is a folder
    of HTML files, which cannot reach the repository). Web links stay as they are.
 5. Directives, HTML comments alone on their line (invisible on GitHub):
      <!-- snippet: 01_backprop_1d/backprop_1d.hpp linear_backward -->
          \\snippet of the skeleton header between its `// [linear_backward]` marker lines
      <!-- figure: results/loss.svg | caption | command that makes it -->
          the image, when the file exists under the build folder that builds the book; otherwise a
          note with the command that makes it
      <!-- chapters: table -->     (book pages) the table of the chapters, written or not
      <!-- chapters: subpages -->  (book pages) the chapter pages as children in the navigation tree
 6. A chapter page ends with links to the previous and the next chapter. A last paragraph that starts
    with `Next:` is for GitHub readers; the book's own links replace it.

Every rule keeps the line count (each line gives one line; rule 6 only appends), so Doxygen's
warnings point at the right line of the source. book/README.md explains the rules for authors.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:\{#[\w-]+\})?[ \t]*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*(snippet|figure|chapters)\s*:\s*(.*?)\s*-->\s*$")
CHAPTER_DIR = re.compile(r"^(\d\d)_\w+$")
# [text](target "title"); the text may hold one level of brackets. Images (![...]) are left to Doxygen.
LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# Math, code spans and HTML tags are replaced by these placeholders while links, emphasis and quotes are
# rewritten, so that a `$`, a bracket or a quote inside them can never look like Markdown.
HOLD = "\uE000"
HOLD_RE = re.compile(HOLD + r"(\d+)" + HOLD)

# Inline HTML is held like code, so that rule 2's quotes never touch an attribute.
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# Math in headings becomes text (rule 3); these are the commands worth keeping as a symbol.
HEADING_SYMBOLS = {
    r"\partial": "∂", r"\nabla": "∇", r"\cdot": "·", r"\times": "×", r"\top": "ᵀ", r"\sum": "∑",
    r"\le": "≤", r"\ge": "≥", r"\ne": "≠", r"\to": "→", r"\infty": "∞", r"\alpha": "α", r"\beta": "β",
    r"\gamma": "γ", r"\delta": "δ", r"\eta": "η", r"\lambda": "λ", r"\mu": "μ", r"\sigma": "σ",
    r"\theta": "θ", r"\epsilon": "ε", r"\varepsilon": "ε",
}


class FilterError(Exception):
    pass


# ----------------------------------------------------------------------------------------------------
# the chapters


@dataclass(frozen=True)
class Chapter:
    number: int
    folder: str
    title: str  # the README's first heading as plain text, e.g. "Chapter 1: Backpropagation by hand"

    @property
    def label(self) -> str:
        return f"ch{self.number:02d}"


def chapters(root: Path) -> list[Chapter]:
    """Every chapters/NN_name/ folder with a README.md, in number order: the book's chapters."""
    found = []
    folder = root / "chapters"
    for path in sorted(folder.glob("[0-9][0-9]_*/README.md")) if folder.is_dir() else []:
        match = CHAPTER_DIR.match(path.parent.name)
        if not match:
            continue
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        heading = HEADING.match(first)
        title = heading_text(heading.group(2)) if heading and heading.group(1) == "#" else path.parent.name
        found.append(Chapter(int(match.group(1)), path.parent.name, title))
    return found


def planned_chapters(root: Path) -> dict[int, str]:
    """The titles of all chapters, also the ones not written yet, from ./course's list (optional)."""
    try:
        sys.path.insert(0, str(root / "tools"))
        import course  # noqa: E402  (tools/course.py: the course's one list of chapters)

        return {c.number: c.title for c in course.CHAPTERS}
    except Exception:  # the book still builds from the chapters that exist
        return {}
    finally:
        sys.path.pop(0)


def chapter_of(path: Path, root: Path) -> Chapter | None:
    """The chapter whose README.md `path` is, or None for any other page."""
    if path.name != "README.md" or path.parent.parent != root / "chapters":
        return None
    for chapter in chapters(root):
        if chapter.folder == path.parent.name:
            return chapter
    return None


# ----------------------------------------------------------------------------------------------------
# inline text: code spans, math, text


def split_inline(line: str) -> list[tuple[str, str]]:
    """Splits a line into ("code", `...`), ("math", inner), ("dmath", inner) and ("text", ...) pieces.

    Math follows GitHub: `$` opens when the next character is not a space; the closing `$` has no space
    before it and no digit after it (so "costs $5 and $6" stays text). `\\$` is a literal dollar.
    """
    pieces: list[tuple[str, str]] = []
    text: list[str] = []
    i, n = 0, len(line)

    def flush() -> None:
        if text:
            pieces.append(("text", "".join(text)))
            text.clear()

    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n and line[i + 1] in "$`\\":
            text.append(line[i:i + 2])
            i += 2
            continue
        if c == "`":
            run = len(line[i:]) - len(line[i:].lstrip("`"))
            ticks = line[i:i + run]
            j = i + run
            while True:
                j = line.find(ticks, j)
                if j == -1 or (j + run >= n or line[j + run] != "`"):
                    break
                j += len(line[j:]) - len(line[j:].lstrip("`"))
            if j == -1:
                text.append(ticks)
                i += run
                continue
            flush()
            pieces.append(("code", line[i:j + run]))
            i = j + run
            continue
        if c == "$" and line.startswith("$$", i):
            j = line.find("$$", i + 2)
            if j == -1:
                text.append("$$")
                i += 2
                continue
            flush()
            pieces.append(("dmath", line[i + 2:j]))
            i = j + 2
            continue
        if c == "$" and i + 1 < n and not line[i + 1].isspace():
            j = i + 1
            while j < n:
                if line[j] == "\\":
                    j += 2
                    continue
                if line[j] == "$" and not line[j - 1].isspace() and not (j + 1 < n and line[j + 1].isdigit()):
                    break
                j += 1
            if j < n:
                flush()
                pieces.append(("math", line[i + 1:j]))
                i = j + 1
                continue
        text.append(c)
        i += 1
    flush()
    return pieces


def code_span(span: str) -> str:
    # Doxygen 1.9.4 reads `word' as typographic quotes, so a one-backtick span that holds a ' (such as
    # `MaxPool2D 'pool1' constructor`) falls apart; two backticks mean the same and are safe.
    if "'" in span and not span.startswith("``"):
        inner = span[1:-1]
        pad = " " if inner.startswith("`") or inner.endswith("`") else ""
        return f"``{pad}{inner}{pad}``"
    return span


BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*]*?)(?<=[^\s*])\*(?![*\w])")


def emphasis(text: str) -> str:
    """Doxygen 1.9.4 leaves **...** and *...* as they are when they hold math or code; HTML tags work."""
    text = BOLD.sub(lambda m: f"<b>{m.group(1)}</b>" if HOLD in m.group(1) else m.group(0), text)
    return ITALIC.sub(lambda m: f"<em>{m.group(1)}</em>" if HOLD in m.group(1) else m.group(0), text)


def table_math(tex: str) -> str:
    # GitHub reads `\|` in a table as an escaped `|`; both become \vert, which no table parser splits.
    return tex.replace("\\|", r"\vert ").replace("|", r"\vert ")


def heading_text(raw: str) -> str:
    """A heading as Doxygen 1.9.4 can show it: plain text, math turned into text."""
    out = []
    for kind, value in split_inline(raw):
        if kind in ("math", "dmath"):
            tex = value
            for command, symbol in sorted(HEADING_SYMBOLS.items(), key=lambda item: -len(item[0])):
                tex = re.sub(re.escape(command) + r"(?![A-Za-z])\s*", symbol, tex)
            tex = tex.replace("^ᵀ", "ᵀ").replace("{", "").replace("}", "")
            out.append(tex)
        elif kind == "code":
            out.append(value.strip("`").strip())
        else:
            out.append(value.replace("*", "").replace("\\{", "{").replace("\\}", "}"))
    return "".join(out).strip()


def github_anchor(raw: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces become '-'."""
    text = raw.replace("`", "").replace("$", "").replace("*", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


# ----------------------------------------------------------------------------------------------------
# the filter


class Page:
    def __init__(self, path: Path, root: Path, build_dir: Path | None):
        self.path = path.resolve()
        self.root = root.resolve()
        self.build_dir = build_dir
        self.chapter = chapter_of(self.path, self.root)
        self.all_chapters = chapters(self.root)
        self.anchors: dict[str, str] = {}  # GitHub anchor -> Doxygen label, for the headings of a chapter

    # -- links

    def link_target(self, target: str) -> str | None:
        """The Doxygen target of a Markdown link, or None when the link must become plain text."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("@ref"):
            return target
        if target.endswith(".html") or ".html#" in target:
            return target  # a page Doxygen generates, such as files.html
        if target.startswith("#"):
            if self.chapter is None:
                return target
            return "@ref " + self.anchors.get(target[1:], f"{self.chapter.label}-{target[1:]}")
        path_part, _, fragment = target.partition("#")
        resolved = Path(os.path.normpath(self.path.parent / path_part))
        try:
            relative = resolved.relative_to(self.root)
        except ValueError:
            return None
        parts = relative.parts
        if parts and parts[0] == "chapters" and len(parts) >= 2 and CHAPTER_DIR.match(parts[1]) \
                and (len(parts) == 2 or parts[2:] == ("README.md",)):
            chapter = next((c for c in self.all_chapters if c.folder == parts[1]), None)
            if chapter is None:
                return None  # a chapter that is not written yet: plain text until it exists
            return f"@ref {chapter.label}-{fragment}" if fragment else f"@ref {chapter.label}"
        if relative == Path("README.md"):
            return "@ref index"
        if resolved.suffix in (".hpp", ".h") and parts[0] in ("chapters", "common") and resolved.exists():
            return "@ref " + relative.as_posix()
        return None

    def rewrite_links(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            target = self.link_target(match.group(2))
            if target is None:
                return match.group(1)
            return f"[{match.group(1)}]({target})"

        return LINK.sub(replace, text)

    # -- one line of prose

    def inline(self, line: str, in_table: bool) -> str:
        held: list[str] = []

        def hold(value: str) -> str:
            held.append(value)
            return f"{HOLD}{len(held) - 1}{HOLD}"

        out = []
        for kind, value in split_inline(line):
            if kind == "code":
                out.append(hold(code_span(value)))
            elif kind == "math":
                out.append(hold(r"\f$" + (table_math(value) if in_table else value) + r"\f$"))
            elif kind == "dmath":
                out.append(hold(r"\f[" + value + r"\f]"))
            else:
                text = value.replace("\\{", "{").replace("\\}", "}")
                text = HTML_TAG.sub(lambda m: hold(m.group(0)), text)
                out.append(text)
        joined = emphasis(self.rewrite_links("".join(out))).replace('"', "&quot;")
        return HOLD_RE.sub(lambda m: held[int(m.group(1))], joined)

    # -- directives

    def directive(self, kind: str, argument: str, number: int) -> str:
        if kind == "snippet":
            words = argument.split(None, 1)
            if len(words) != 2:
                raise FilterError(f"{self.path}:{number}: write <!-- snippet: NN_name/file.hpp marker -->")
            return rf"\snippet{{lineno}} {words[0]} {words[1]}"
        if kind == "figure":
            return self.figure(argument, number)
        if kind == "chapters":
            if argument == "table":
                return self.chapter_table()
            if argument == "subpages":
                return "<ul>" + "".join(rf'<li>\subpage {c.label} "{c.title}"</li>' for c in self.all_chapters) + "</ul>"
        raise FilterError(f"{self.path}:{number}: unknown directive '<!-- {kind}: {argument} -->'")

    def figure(self, argument: str, number: int) -> str:
        fields = [f.strip() for f in argument.split("|")]
        if len(fields) != 3 or not all(fields):
            raise FilterError(f"{self.path}:{number}: write <!-- figure: path/in/build | caption | command -->")
        name, caption, command = fields
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise FilterError(f"{self.path}:{number}: a figure path is relative to the build folder: {name}")
        if self.build_dir is not None and (self.build_dir / name).is_file():
            # book_assets.py copies the file to html/figures/<name> after Doxygen has run.
            return (rf'\htmlonly[block]<div class="image"><img src="figures/{html.escape(name)}" '
                    rf'alt="{html.escape(caption)}"/><div class="caption">{html.escape(caption)}</div></div>'
                    r"\endhtmlonly")
        return (f'<div class="figure-missing">**Figure not generated yet:** {caption}. '
                f"Run `{command}`, then `./course book` again.</div>")

    def chapter_table(self) -> str:
        # An HTML table, so that the whole list stays on one line (rule: keep the line count).
        titles = planned_chapters(self.root)
        written = {c.number: c for c in self.all_chapters}
        rows = []
        for number in sorted(set(titles) | set(written)):
            if number in written:
                cell = rf'\ref {written[number].label} "{written[number].title}"'
                status = "ready"
            else:
                cell = f"Chapter {number}: {titles[number]}"
                status = "not written yet"
            rows.append(f"<tr><td>{number}</td><td>{cell}</td><td>{status}</td></tr>")
        return ('<table class="markdownTable"><tr><th>#</th><th>chapter</th><th>status</th></tr>'
                + "".join(rows) + "</table>")

    # -- the page

    def footer(self) -> list[str]:
        chapter = self.chapter
        before = [c for c in self.all_chapters if c.number < chapter.number]
        after = [c for c in self.all_chapters if c.number > chapter.number]
        previous = f"[{before[-1].title}](@ref {before[-1].label})" if before else "[The chapters](@ref chapters)"
        following = f"[{after[0].title}](@ref {after[0].label})" if after else "[API reference](@ref api)"
        return ["", '<div class="chapter-nav">',
                f"**Previous:** {previous} &emsp; **Next:** {following}", "</div>"]

    def convert(self, text: str) -> str:
        lines = text.split("\n")
        code = fenced_lines(lines)
        if self.chapter is not None:
            self.label_headings(lines, code)
            drop_next_paragraph(lines)
        out: list[str] = []
        display: list[str] | None = None  # the lines of an open $$ block
        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if number - 1 in code:
                out.append(line)
            elif display is not None:
                display.append(line)
                if stripped.endswith("$$"):
                    out += display_math(display)
                    display = None
            elif stripped.startswith("$$") and stripped.count("$$") == 1:
                display = [line]
            elif directive := DIRECTIVE.match(line):
                out.append(self.directive(directive.group(1), directive.group(2), number))
            elif heading := HEADING.match(line):
                out.append(self.heading(heading.group(1), heading.group(2), line, number))
            else:
                out.append(self.inline(line, in_table=stripped.startswith("|")))
        if display is not None:
            raise FilterError(f"{self.path}: the $$ block of line {len(lines) - len(display) + 1} is not closed")
        if self.chapter is not None:
            out += self.footer()
        return "\n".join(out)

    def label_headings(self, lines: list[str], code: set[int]) -> None:
        """Gives every heading but the title the label chNN-<GitHub anchor>; GitHub numbers repeats."""
        seen: dict[str, int] = {}
        self.heading_labels: dict[int, str] = {}
        for index, line in enumerate(lines):
            heading = HEADING.match(line)
            if index == 0 or index in code or not heading:
                continue
            anchor = github_anchor(heading.group(2))
            count = seen.get(anchor, 0)
            seen[anchor] = count + 1
            unique = anchor if count == 0 else f"{anchor}-{count}"
            self.anchors[unique] = f"{self.chapter.label}-{unique}"
            self.heading_labels[index + 1] = self.anchors[unique]

    def heading(self, hashes: str, raw: str, line: str, number: int) -> str:
        text = heading_text(raw)
        if self.chapter is None:
            label = re.search(r"\{#([\w-]+)\}\s*$", line)
            return f"{hashes} {text}" + (f" {{#{label.group(1)}}}" if label else "")
        if number == 1:
            if hashes != "#":
                raise FilterError(f"{self.path}:1: a chapter README starts with '# Chapter N: Title'")
            return f"# {text} {{#{self.chapter.label}}}"
        return f"{hashes} {text} {{#{self.heading_labels[number]}}}"


def display_math(lines: list[str]) -> list[str]:
    """A $$ block on lines of its own as one \\f[...\\f] line, then blank lines for the others.

    Doxygen 1.9.4 drops the line breaks inside a formula when it counts lines, so every message after a
    formula of k lines would point k - 1 lines too high. In TeX a line break is a space, so joining is
    safe once % comments are gone.
    """
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())]
    tex = " ".join(re.sub(r"(?<!\\)%.*$", "", line).strip() for line in lines)
    tex = tex.strip()[2:-2].strip()
    return [rf"{indent}\f[ {tex} \f]"] + [""] * (len(lines) - 1)


def fenced_lines(lines: list[str]) -> set[int]:
    """The indices of the lines of fenced code blocks, fences included."""
    code: set[int] = set()
    fence: str | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if fence is not None:
            code.add(index)
            if stripped.startswith(fence) and stripped == fence[0] * len(stripped):
                fence = None
        elif opening := FENCE.match(line):
            fence = opening.group(1)
            code.add(index)
    return code


def drop_next_paragraph(lines: list[str]) -> None:
    """Blanks a last paragraph that starts with 'Next:' (rule 6), keeping the line count."""
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    if start < end and lines[start].startswith("Next:"):
        for i in range(start, end):
            lines[i] = ""


def convert_file(path: Path, root: Path = ROOT, build_dir: Path | None = None) -> str:
    return Page(path, root, build_dir).convert(path.read_text(encoding="utf-8"))


def figures(text: str) -> list[str]:
    """The figure paths a page names (for book_assets.py, which copies the ones that exist)."""
    found = []
    for line in text.splitlines():
        match = DIRECTIVE.match(line)
        if match and match.group(1) == "figure":
            found.append(match.group(2).split("|")[0].strip())
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this one)")
    parser.add_argument("--build-dir", type=Path, help="the build folder, where figures are looked up")
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    try:
        sys.stdout.write(convert_file(args.file, args.root, args.build_dir))
    except (FilterError, OSError) as e:
        # Doxygen ignores a filter's exit code; the message shows in its output, and the page, left
        # empty, fails the book's HTML check.
        print(f"book_filter: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
