"""Doxygen input filter of the book: GitHub-style Markdown in, Doxygen Markdown out, every line kept in place.

  python3 -m book.filter [--root DIR] [--build-dir DIR] FILE   (Doxygen runs it; book/README.md, "The filter")
"""
import argparse
import html
import os
import re
import sys
from pathlib import Path
from typing import NamedTuple

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from cli.course import find_chapters

ROOT = Path(__file__).resolve().parent.parent
# GitHub's math: no space inside the dollars, no digit after the closing one ("costs $5 and $6" is text).
# These keywords mean the same in mdit-py-plugins 0.3 (Debian 12) and 0.4 (Debian 13).
MD = MarkdownIt("commonmark").enable("table").use(
    dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)


def _padded(rule):
    """The plugin's digit rule reads src[pos - 1], which at pos 0 is the last character: a table cell
    "$x$ if y > 0" would lose its math. With a space after the end, the last character is never a digit."""
    def math_inline(state, silent):
        if state.pos:
            return rule(state, silent)
        source, state.src = state.src, state.src + " "
        found, state.src = rule(state, silent), source
        return found
    return math_inline


if (_rule := next((f for f in MD.inline.ruler.getRules("") if f.__name__ == "_math_inline_dollar"), None)):
    MD.inline.ruler.at("math_inline", _padded(_rule))

HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t]*(?:\{#([\w-]+)\})?[ \t]*$")  # hashes, text, label
DIRECTIVE = re.compile(r"^\s*<!--\s*(snippet|figure|chapters)\s*:\s*(.*?)\s*-->\s*$")
CHAPTER_DIR = re.compile(r"^(\d\d)_\w+$")
URL = re.compile(r"^[a-z][a-z0-9+.-]*:")
# [text](target "title"); the text may hold one level of brackets. An image is ![text](target).
_LINK = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
LINK, IMAGE = re.compile("(?<!!)" + _LINK), re.compile("!" + _LINK)
# A relative image (![alt](figures/x.svg)) is copied by book/book.cmake to html/figures/<its path in the repository>.
IMAGE_SUFFIXES = (".svg", ".gif", ".png", ".jpg", ".jpeg")
IMAGE_FOLDER = "figures"
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]*?)(?<=[^\s*])\*(?![*\w])")
# Code, math and HTML tags wait behind these placeholders while prose is rewritten.
HOLD = "\uE000"
HOLD_RE = re.compile(HOLD + r"(\d+)" + HOLD)
# Math in headings becomes text; these commands become a symbol.
SYMBOLS = dict(zip(r"\partial \nabla \cdot \times \top \sum \le \ge \ne \to \infty \alpha \beta \gamma \delta "
                   r"\eta \lambda \mu \sigma \theta \epsilon \varepsilon".split(), "∂∇·×ᵀ∑≤≥≠→∞αβγδηλμσθεε"))
SYMBOL = re.compile("|".join(re.escape(c) for c in sorted(SYMBOLS, key=len, reverse=True)) + r"(?![A-Za-z])\s*")


class FilterError(Exception):
    pass


class Chapter(NamedTuple):
    number: int
    folder: str
    title: str  # the README's first heading as plain text, e.g. "Chapter 1: Backpropagation by hand"
    label: str  # the page name, chNN


def chapters(root: Path) -> list[Chapter]:
    """The book's chapters: those of ./course (cli.course.find_chapters, the one list) that have a README.md."""
    return [Chapter(c.number, c.folder, f"Chapter {c.number}: {heading_text(c.title)}", c.tag)
            for c in find_chapters(root) if (root / "chapters" / c.folder / "README.md").is_file()]


def headings(text: str) -> list[tuple[int, str, str]]:
    """(line index, hashes, raw text) of every ATX heading, as the parser finds them (never in code)."""
    lines = text.split("\n")
    return [(token.map[0], match.group(1), match.group(2)) for token in MD.parse(text)
            if token.type == "heading_open" and (match := HEADING.match(lines[token.map[0]]))]


def heading_text(raw: str) -> str:
    """A heading as Doxygen 1.9.4 can show it: plain text, math turned into text, no emphasis."""
    out = []
    for token in MD.parseInline(raw)[0].children:
        if token.type.startswith("math"):
            out.append(SYMBOL.sub(lambda m: SYMBOLS[m.group().rstrip()], token.content)
                       .replace("^ᵀ", "ᵀ").replace("{", "").replace("}", ""))
        elif token.type == "softbreak":
            out.append(" ")
        else:
            out.append(token.content)  # text, code, HTML; emphasis and link markers have none
    return "".join(out).strip()


def display_math(source: str) -> str:
    """$$...$$ as one \\f[...\\f] line, then one blank line for each further line of the source.

    In TeX a line break is a space, so joining is safe once % comments are gone."""
    lines = source.split("\n")
    tex = " ".join(re.sub(r"(?<!\\)%.*$", "", line).strip() for line in lines).strip()[2:-2].strip()
    return rf"\f[ {tex} \f]" + "\n" * (len(lines) - 1)


class Page:
    def __init__(self, path: Path, root: Path, build_dir: Path | None):
        self.path, self.root, self.build_dir = path.resolve(), root.resolve(), build_dir
        self.all_chapters = chapters(self.root)
        self.chapter = next((c for c in self.all_chapters if path.name == "README.md"
                             and self.path.parent == self.root / "chapters" / c.folder), None)
        self.anchors: dict[str, str] = {}  # GitHub anchor -> Doxygen label, for the headings of a chapter

    def relative(self, target: str) -> Path | None:
        """The file a relative link names, as a path in the repository; None when it lies outside."""
        resolved = Path(os.path.normpath(self.path.parent / target.partition("#")[0]))
        return resolved.relative_to(self.root) if resolved.is_relative_to(self.root) else None

    def link_target(self, target: str) -> str | None:
        """The Doxygen target of a Markdown link, or None when the link must become plain text."""
        if target.startswith("#") and self.chapter is not None:
            return "@ref " + self.anchors.get(target[1:], f"{self.chapter.label}-{target[1:]}")
        if URL.match(target) or target.startswith(("#", "@ref")) or ".html" in target:
            return target  # a web link, an anchor of a book page, a reference, or a page Doxygen makes (files.html)
        if (relative := self.relative(target)) is None:
            return None
        parts, fragment = relative.parts, target.partition("#")[2]
        folder = parts[1] if len(parts) > 1 and parts[0] == "chapters" and parts[2:] in ((), ("README.md",)) else ""
        if CHAPTER_DIR.match(folder):  # a chapter not written yet is plain text until it exists
            chapter = next((c for c in self.all_chapters if c.folder == folder), None)
            return chapter and f"@ref {chapter.label}" + (f"-{fragment}" if fragment else "")
        if parts == ("README.md",):
            return "@ref index"
        if relative.suffix in (".hpp", ".h") and parts[0] in ("chapters", "common") and (self.root / relative).exists():
            return "@ref " + relative.as_posix()
        return None

    def image_path(self, target: str) -> str | None:
        """The path in the repository of a relative image (figures/x.svg in chapters/05_conv2d/README.md gives
        chapters/05_conv2d/figures/x.svg), or None for a web address or a path outside the repository."""
        relative = None if URL.match(target) or target.startswith(("/", "#")) else self.relative(target)
        return relative.as_posix() if relative and relative.suffix.lower() in IMAGE_SUFFIXES else None

    def image(self, token, block: bool) -> str | None:
        """A relative image as HTML that points to the book's copy. Alone in its paragraph it is a figure:
        centred, with its alt text also as the caption (hidden from screen readers, which read the alt)."""
        if (path := self.image_path(token.attrs.get("src", ""))) is None:
            return None
        alt = " ".join(heading_text(token.content).split())
        tag = f'<img src="{IMAGE_FOLDER}/{html.escape(path)}" alt="{html.escape(alt)}"/>'
        if not block:
            return rf"\htmlonly{tag}\endhtmlonly"
        # The caption: code as code, math for MathJax (\(...\)), the rest as escaped text.
        caption = "".join(f"<code>{html.escape(c.content)}</code>" if c.type == "code_inline"
                          else rf"\({html.escape(c.content, quote=False)}\)" if c.type.startswith("math")
                          else " " if c.type == "softbreak" else html.escape(c.content, quote=False)
                          for c in token.children or [])
        caption_html = f'<div class="caption" aria-hidden="true">{caption}</div>' if alt else ""
        return rf'\htmlonly[block]<div class="image">{tag}{caption_html}</div>\endhtmlonly'

    def prose(self, source: str, children: list, in_table: bool) -> str:
        """A paragraph or table row: code spans, math and images become Doxygen's, and braces, links, emphasis
        and quotes change in the text between them. The parser gives the tokens in order but no columns, so
        each one is found in the source after the one before it. A table cell's math has lost the backslash
        of \\|, hence the optional backslash."""
        # A paragraph of images only (one a line): each is a figure with a caption.
        block = not in_table and any(c.type == "image" for c in children) and all(
            c.type in ("image", "softbreak") or (c.type == "text" and not c.content.strip()) for c in children)
        spans, at = [], 0  # (start, end, Doxygen text)
        for token in children:
            if token.type == "image":
                pattern = IMAGE
            elif token.type == "code_inline":  # from a tick run not escaped to the next one as long
                ticks = f"(?<!`){token.markup}(?!`)"
                pattern = re.compile(rf"(?<!\\){ticks}.*?{ticks}", re.S)
            elif token.type.startswith("math_inline"):
                pattern = re.escape(token.markup + token.content + token.markup)
                pattern = re.compile(pattern.replace(r"\|", r"\\?\|") if in_table else pattern)
            else:
                continue
            if not (match := pattern.search(source, at)):
                what = f"the image ![{token.content}]({token.attrs.get('src')})" if token.type == "image" \
                    else token.markup + token.content + token.markup
                raise FilterError(f"cannot find {what} in: {source}")
            start, at = match.span()
            value = source[start:at]
            if token.type == "image":
                if (image := self.image(token, block)) is None:
                    continue  # not an image of the repository: Doxygen shows it as it is
                value = image.replace("/>", "\n" * value.count("\n") + "/>", 1)  # the lines it took stay, in its tag
            elif token.type == "code_inline":
                if "'" in value and token.markup == "`":  # Doxygen 1.9.4 reads `word' as quotes; `` is safe
                    pad = " " if value[1] == "`" or value[-2] == "`" else ""
                    value = f"``{pad}{value[1:-1]}{pad}``"
            elif "\n" in value:
                value = display_math(value)
            elif token.type == "math_inline_double":
                value = r"\f[" + value[2:-2] + r"\f]"
            else:
                tex = value[1:-1]
                value = r"\f$" + (tex.replace("\\|", r"\vert ").replace("|", r"\vert ") if in_table else tex) + r"\f$"
            spans.append((start, at, value))
        held: list[str] = []

        def hold(value: str) -> str:
            held.append(value)
            return f"{HOLD}{len(held) - 1}{HOLD}"

        parts, at = [], 0
        for start, end, value in spans + [(len(source), len(source), "")]:
            text = source[at:start].replace("\\{", "{").replace("\\}", "}")
            parts += [HTML_TAG.sub(lambda m: hold(m.group()), text), hold(value)]
            at = end
        text = LINK.sub(lambda m: m.group(1) if (target := self.link_target(m.group(2))) is None
                        else f"[{m.group(1)}]({target})", "".join(parts))
        text = BOLD.sub(lambda m: f"<b>{m.group(1)}</b>" if HOLD in m.group(1) else m.group(), text)
        text = ITALIC.sub(lambda m: f"<em>{m.group(1)}</em>" if HOLD in m.group(1) else m.group(), text)
        return HOLD_RE.sub(lambda m: held[int(m.group(1))], text.replace('"', "&quot;"))

    def directive(self, kind: str, argument: str, number: int) -> str:
        if kind == "snippet" and len(argument.split(None, 1)) == 2:
            return r"\snippet{lineno} " + argument
        if kind == "figure":
            return self.figure(argument, number)
        if kind == "chapters" and argument == "subpages":
            return "<ul>" + "".join(rf'<li>\subpage {c.label} "{c.title}"</li>' for c in self.all_chapters) + "</ul>"
        if kind == "chapters" and argument == "table":  # an HTML table, so that the whole list stays on one line
            rows = "".join(rf'<tr><td>{c.number}</td><td>\ref {c.label} "{c.title}"</td><td>ready</td></tr>'
                           for c in self.all_chapters)
            return f'<table class="markdownTable"><tr><th>#</th><th>chapter</th><th>status</th></tr>{rows}</table>'
        raise FilterError(f"{self.path}:{number}: unknown directive '<!-- {kind}: {argument} -->' (write "
                          f"<!-- snippet: NN_name/file.hpp marker --> or see book/README.md)")

    def figure(self, argument: str, number: int) -> str:
        fields = [f.strip() for f in argument.split("|")]
        if len(fields) != 3 or not all(fields):
            raise FilterError(f"{self.path}:{number}: write <!-- figure: path/in/build | caption | command -->")
        name, caption, command = fields
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise FilterError(f"{self.path}:{number}: a figure path is relative to the build folder: {name}")
        if self.build_dir is not None and (self.build_dir / name).is_file():
            # book/book.cmake copies the file to html/figures/<name> after Doxygen has run.
            return (rf'\htmlonly[block]<div class="image"><img src="figures/{html.escape(name)}" '
                    rf'alt="{html.escape(caption)}"/><div class="caption">{html.escape(caption)}</div></div>'
                    r"\endhtmlonly")
        return (f'<div class="figure-missing">**Figure not generated yet:** {caption}. '
                f"Run `{command}`, then `./course book` again.</div>")

    def heading(self, index: int, match: re.Match, seen: dict[str, int]) -> str:
        """A heading as plain text with its label: in a chapter chNN-<GitHub's anchor>, which numbers
        repeated anchors x, x-1, x-2; elsewhere the page's own {#label}, if any."""
        hashes, text, label = match.group(1), heading_text(match.group(2)), match.group(3)
        if self.chapter is None:
            return f"{hashes} {text}" + (f" {{#{label}}}" if label else "")
        if index == 0 and hashes != "#":
            raise FilterError(f"{self.path}:1: a chapter README starts with '# Chapter N: Title'")
        label = self.chapter.label
        if index > 0:
            # GitHub's anchor: lower case, punctuation dropped, spaces become '-'.
            raw = match.group(2).replace("`", "").replace("$", "").replace("*", "").strip().lower()
            anchor = re.sub(r"[^\w\- ]", "", raw).replace(" ", "-")
            count = seen[anchor] = seen.get(anchor, -1) + 1
            unique = anchor if count == 0 else f"{anchor}-{count}"
            label = self.anchors[unique] = f"{label}-{unique}"
        return f"{hashes} {text} {{#{label}}}"

    def convert(self, text: str) -> str:
        lines = text.split("\n")
        out, tokens, seen = list(lines), MD.parse(text), {}
        rows: dict[tuple[int, int, bool], list] = {}  # (lines, in a table) -> the inline tokens there
        in_table = in_heading = False
        for token in tokens:
            in_table = token.type == "table_open" or (in_table and token.type != "table_close")
            a, b = token.map or (0, 0)
            if token.type == "heading_open" and (match := HEADING.match(lines[a])):
                out[a] = self.heading(a, match, seen)
                in_heading = True
            elif token.type == "inline" and not in_heading:
                rows.setdefault((a, b, in_table), []).extend(token.children)
            elif token.type == "math_block":
                out[a:b] = display_math("\n".join(lines[a:b])).split("\n")
            elif token.type == "html_block" and (match := DIRECTIVE.match(token.content.rstrip("\n"))):
                out[a] = self.directive(match.group(1), match.group(2), a + 1)
            elif token.type == "heading_close":
                in_heading = False
        for (a, b, table), children in rows.items():  # after the headings: a link may go to a later one
            try:
                out[a:b] = self.prose("\n".join(lines[a:b]), children, table).split("\n")
            except FilterError as e:
                raise FilterError(f"{self.path}:{a + 1}: {e}") from None
        if self.chapter is None:
            return "\n".join(out)
        last = next((t for t in reversed(tokens) if t.map and t.level == 0), None)
        if last is not None and last.type == "paragraph_open" and lines[last.map[0]].startswith("Next:"):
            out[last.map[0]:last.map[1]] = [""] * (last.map[1] - last.map[0])
        before = [c for c in self.all_chapters if c.number < self.chapter.number]
        after = [c for c in self.all_chapters if c.number > self.chapter.number]
        previous = f"[{before[-1].title}](@ref {before[-1].label})" if before else "[The chapters](@ref chapters)"
        following = f"[{after[0].title}](@ref {after[0].label})" if after else "[API reference](@ref api)"
        return "\n".join(out + ["", '<div class="chapter-nav">',
                                f"**Previous:** {previous} &emsp; **Next:** {following}", "</div>"])


def convert_file(path: Path, root: Path = ROOT, build_dir: Path | None = None) -> str:
    return Page(path, root, build_dir).convert(path.read_text(encoding="utf-8"))


def images(path: Path, root: Path = ROOT) -> list[tuple[int, str, str]]:
    """(line, path in the repository, alt text) of every relative image a page shows (for book/check.py)."""
    page, tokens = Page(path, root, None), MD.parse(path.read_text(encoding="utf-8"))
    return [(token.map[0] + 1, target, heading_text(child.content)) for token in tokens if token.type == "inline"
            for child in token.children if child.type == "image"
            and (target := page.image_path(child.attrs.get("src", "")))]


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
        print(f"book.filter: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
