#!/usr/bin/env python3
"""Checks the book's generated HTML for what Doxygen's warnings do not catch.

  book_check.py --html BUILD/book/html [--root REPO] [--rules raw-tex,cut-short,...]

Doxygen 1.9.4 builds some broken pages without a warning: `\\{` in math silently drops the rest of a
page, math it does not recognise stays raw TeX, a Markdown `#anchor` link may point nowhere. The rules:

  raw-tex     no TeX outside MathJax: no `$`, `\\f$`, `\\frac`, `\\partial`, `_{`, ... in visible text, page
              titles or navigation-tree titles; code blocks, code spans and the \\( \\) and \\[ \\] regions that
              MathJax typesets do not count
  raw-markdown  no Markdown Doxygen did not read in visible text: a backtick (a broken code span), `**`,
              or `](` of a link
  cut-short   every page is complete (ends with </html>, has Doxygen's footer); every heading of every
              chapter README and book page is on its page; every chapter page ends with its chapter links
  links       every local href and src points to an existing file, and every #anchor to an existing id,
              in pages, navigation-tree data and SVG graphs
  assets      nothing is loaded from the network; the MathJax files the pages ask for are real,
              non-empty files (not links into /usr/share that break when the book is copied)
  chapters    every chapter has its page, in number order in the navigation tree, with a "Check your
              work" section naming `./course check N`, and links to the previous and the next chapter
  solutions   no chapter or book page shows a reference solution's TODO body: two of its lines of 24
              characters or more (or its only one) on one page fail (code shown with line numbers comes
              from the learner's own header by \\snippet and does not count)

Exit status 0 when every rule passes; otherwise 1, after a list of every problem with its page.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_filter  # noqa: E402

RULES = ("raw-tex", "raw-markdown", "cut-short", "links", "assets", "chapters", "solutions")

# TeX that MathJax did not get: a dollar, Doxygen's \f$ \f[ \f] \f{, a TeX command (two or more letters;
# also Doxygen's own \_form#2, which it prints for math inside a quote across lines), escaped braces or
# bars, a sub- or superscript group, or a \( \[ \) \] left over without its partner.
RAW_TEX = re.compile(r"\$|\\f[$\[\]{}]|\\[A-Za-z_]{2,}|\\[{}|]|[_^]\{|\\[()\[\]]")
# Markdown that Doxygen did not read: a stray backtick, bold markers, the middle of a link.
RAW_MARKDOWN = re.compile(r"`|\*\*|\]\(")
# The regions MathJax typesets: Doxygen 1.9.4 writes \( ... \) for \f$ and \[ ... \] for \f[.
MATH_REGION = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)
# Elements whose text is code or not shown: never raw TeX.
CODE_TAGS = {"pre", "code", "tt", "script", "style", "kbd", "samp"}
CODE_CLASSES = {"fragment", "ttc", "line"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
             "track", "wbr"}
# A TODO region counts as shown when a page holds two of its telling lines (all of them, if it has fewer):
# one line, such as an allocation, is a hint; two are a walk-through of the solution. Lines shorter than
# SOLUTION_LINE_MIN characters are too common to tell (`return grads;`, `}`).
SOLUTION_LINE_MIN = 24
SOLUTION_LINES_SHOWN = 2


@dataclass
class Problem:
    rule: str
    page: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.page}: {self.message}"


@dataclass
class Page:
    """What the checks need from one HTML page."""

    path: Path
    source: str
    ids: set[str] = field(default_factory=set)
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, attribute, value)
    prose: list[str] = field(default_factory=list)  # visible text outside code, in order
    headings: list[str] = field(default_factory=list)  # h1..h6 texts and the page title
    title: str = ""
    all_text: list[str] = field(default_factory=list)  # all text, code too, but no numbered snippets
    chapter_nav: list[str] = field(default_factory=list)  # hrefs inside div.chapter-nav
    mathjax_config: str = ""


class PageParser(HTMLParser):
    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[tuple[str, bool, bool, bool]] = []  # (tag, code, snippet, chapter-nav)
        self.heading: list[str] | None = None
        self.in_title_div = False
        self.in_mathjax_config = False

    def flags(self) -> tuple[bool, bool, bool]:
        return self.stack[-1][1:] if self.stack else (False, False, False)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name in ("id", "name"):
            if name in values and tag in ("a", "div", "span", "h1", "h2", "h3", "h4", "h5", "h6", "p", "table",
                                          "tr", "td", "section", "dl", "dt", "li", "map", "area"):
                self.page.ids.add(values[name])
        for name in ("href", "src", "data"):
            if name in values:
                self.page.refs.append((tag, name, values[name]))
        if tag in VOID_TAGS:
            return
        classes = set(values.get("class", "").split())
        code, snippet, nav = self.flags()
        code = code or tag in CODE_TAGS or bool(classes & CODE_CLASSES)
        # A fragment with line numbers is a \snippet{lineno} of the learner's own header.
        snippet = snippet or "numbered-snippet" in classes
        nav = nav or (tag == "div" and "chapter-nav" in classes)
        if nav and tag == "a" and "href" in values:
            self.page.chapter_nav.append(values["href"])
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.heading = []
        if tag == "div" and "title" in classes:
            self.in_title_div = True
            self.heading = []
        if tag == "script" and values.get("type") == "text/x-mathjax-config":
            self.in_mathjax_config = True
        self.stack.append((tag, code, snippet, nav))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        # Pop up to the matching tag; HTML from Doxygen is well nested, but be lenient.
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") or (tag == "div" and self.in_title_div):
            if self.heading is not None:
                text = " ".join("".join(self.heading).split())
                self.page.headings.append(text)
                if self.in_title_div and tag == "div":
                    self.page.title = text
                    self.in_title_div = False
            self.heading = None
        if tag == "script":
            self.in_mathjax_config = False
        self.page.prose.append("\n")

    def handle_data(self, data: str) -> None:
        code, snippet, _ = self.flags()
        if self.in_mathjax_config:
            self.page.mathjax_config += data
            return
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        if self.heading is not None:
            self.heading.append(data)
        if not snippet:
            self.page.all_text.append(data)
        if not code:
            self.page.prose.append(data)


def parse_page(path: Path) -> Page:
    source = path.read_text(encoding="utf-8", errors="replace")
    page = Page(path, source)

    # A fragment with line anchors (<a id="l00042" ...>) is a \snippet{lineno} of the learner's own header:
    # mark it by a class the parser sees when the fragment starts.
    def mark(match: re.Match) -> str:
        body = match.group(0)
        if re.search(r'<a id="l\d+"', body):
            return body.replace('<div class="fragment">', '<div class="fragment numbered-snippet">', 1)
        return body

    marked = re.sub(r'<div class="fragment">.*?</div><!-- fragment -->', mark, source, flags=re.S)
    parser = PageParser(page)
    parser.feed(marked)
    parser.close()
    return page


# ----------------------------------------------------------------------------------------------------


class Book:
    def __init__(self, html: Path, root: Path):
        self.html = html
        self.root = root
        self.pages: dict[str, Page] = {}
        for path in sorted(html.rglob("*.html")):
            if "mathjax" in path.relative_to(html).parts:
                continue
            self.pages[path.relative_to(html).as_posix()] = parse_page(path)
        self.problems: list[Problem] = []

    def problem(self, rule: str, page: str, message: str) -> None:
        self.problems.append(Problem(rule, page, message))

    def ids_of(self, name: str) -> set[str] | None:
        if name in self.pages:
            return self.pages[name].ids
        path = self.html / name
        if path.suffix == ".svg" and path.is_file():
            return set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8", errors="replace")))
        return None

    # -- navigation-tree data: var NAME = [ [ "title", "page.html#anchor", children ], ... ];
    # Doxygen 1.9.4 writes the subtree of each top-level page to its own file (chapters.js) and names that file in
    # the parent's children; Doxygen 1.9.8 writes the whole tree into navtreedata.js. Both begin some files with a
    # licence comment. So the files are read as data, wherever a subtree happens to live.

    @functools.cached_property
    def tree_vars(self) -> dict[str, tuple[str, list]]:
        """Every `var NAME = [...];` of the book's .js files, parsed once: NAME -> (file name, value)."""
        found = {}
        for path in sorted(self.html.glob("*.js")):
            text = path.read_text(encoding="utf-8", errors="replace")
            for match in re.finditer(r"^var (\w+) *=\s*(\[.*?^\]);", text, re.S | re.M):
                try:
                    found[match.group(1)] = (path.name, json.loads(match.group(2)))
                except json.JSONDecodeError:
                    continue
        return found

    def tree_entries(self) -> list[tuple[str, str, str]]:
        """(file name, title, url) of every node of the navigation tree."""
        entries = []

        def walk(js: str, nodes: list) -> None:
            for node in nodes:
                if isinstance(node, list) and len(node) >= 2 and isinstance(node[0], str):
                    entries.append((js, node[0], node[1] or ""))
                    if len(node) > 2 and isinstance(node[2], list):
                        walk(js, node[2])

        for name, (js, value) in self.tree_vars.items():
            if not name.startswith("NAVTREEINDEX"):
                walk(js, value)
        return entries

    def tree_children(self, url: str) -> tuple[str, list[str]] | None:
        """The file that lists the children of the tree node pointing to `url`, and the children's urls."""
        trees = self.tree_vars
        stack = [value for name, value in trees.items() if not name.startswith("NAVTREEINDEX")]
        while stack:
            js, nodes = stack.pop()
            for node in nodes:
                if not (isinstance(node, list) and len(node) > 2):
                    continue
                children_js, children = js, node[2]
                if isinstance(children, str):  # the subtree lives in the file (and variable) of that name
                    children_js, children = trees.get(children, (f"{children}.js", []))
                if not isinstance(children, list):
                    continue
                if node[1] == url:
                    return children_js, [child[1] for child in children if isinstance(child, list) and len(child) > 1]
                stack.append((children_js, children))
        return None

    # -- rules

    def check_raw_tex(self) -> None:
        for name, page in self.pages.items():
            text = MATH_REGION.sub(" ", "".join(page.prose))
            for match in RAW_TEX.finditer(text):
                context = " ".join(text[max(0, match.start() - 40):match.end() + 40].split())
                self.problem("raw-tex", name, f"'{match.group()}' outside MathJax in: ...{context}...")
        for js, title, _ in self.tree_entries():
            if RAW_TEX.search(MATH_REGION.sub(" ", title)) or MATH_REGION.search(title):
                self.problem("raw-tex", js, f"navigation-tree title shows TeX (MathJax does not typeset the "
                                            f"tree; keep math in headings plain): {title!r}")

    def check_raw_markdown(self) -> None:
        for name, page in self.pages.items():
            text = MATH_REGION.sub(" ", "".join(page.prose))
            for match in RAW_MARKDOWN.finditer(text):
                context = " ".join(text[max(0, match.start() - 40):match.end() + 40].split())
                self.problem("raw-markdown", name, f"'{match.group()}' outside code in: ...{context}...")

    def source_pages(self) -> list[tuple[Path, str]]:
        """(Markdown source, HTML page) for every chapter README and every page in book/."""
        result = []
        for chapter in book_filter.chapters(self.root):
            result.append((self.root / "chapters" / chapter.folder / "README.md", f"{chapter.label}.html"))
        for path in sorted((self.root / "book").glob("*.md")):
            if path.name == "README.md":
                continue
            if path.name == "mainpage.md":
                result.append((path, "index.html"))
                continue
            label = re.search(r"\{#([\w-]+)\}", path.read_text(encoding="utf-8").split("\n", 1)[0])
            if label:
                result.append((path, f"{label.group(1)}.html"))
        return result

    def check_cut_short(self) -> None:
        for name, page in self.pages.items():
            if name.startswith("search/"):
                continue  # the search box's result frames have no footer
            if not page.source.rstrip().endswith("</html>") or "<!-- start footer part -->" not in page.source:
                self.problem("cut-short", name, "the page does not end with Doxygen's footer and </html>")
        for source, name in self.source_pages():
            page = self.pages.get(name)
            if page is None:
                self.problem("cut-short", name, f"no page for {source.relative_to(self.root)}")
                continue
            lines = source.read_text(encoding="utf-8").split("\n")
            code = book_filter.fenced_lines(lines)
            found = {" ".join(h.split()) for h in page.headings}
            for index, line in enumerate(lines):
                heading = book_filter.HEADING.match(line)
                if index in code or not heading:
                    continue
                text = " ".join(book_filter.heading_text(heading.group(2)).split())
                if text not in found:
                    self.problem("cut-short", name, f"heading '{text}' of {source.relative_to(self.root)}:"
                                                    f"{index + 1} is missing: the page was cut short (a \\{{ "
                                                    f"outside math?) or the heading lost")
            if source.name == "README.md" and not page.chapter_nav:
                self.problem("cut-short", name, "the chapter links at the end of the page are missing: the "
                                                "page was cut short")

    def check_links(self) -> None:
        refs: list[tuple[str, str, str]] = []
        for name, page in self.pages.items():
            refs += [(name, tag, value) for tag, attribute, value in page.refs]
        for js, title, url in self.tree_entries():
            refs.append((js, "tree", url))
        for svg in sorted(self.html.glob("*.svg")):
            # Only links out of the drawing: a reference inside it (Doxygen's own logo refers to a missing
            # #path141) is a detail of the picture, not of the book.
            for value in re.findall(r'(?:xlink:)?href="([^"#][^"]*)"', svg.read_text(encoding="utf-8", errors="replace")):
                refs.append((svg.name, "a", value))
        for name, tag, value in refs:
            if not value or value.startswith(("javascript:", "mailto:")) or re.match(r"^[a-z]+://|^//", value):
                continue
            target, _, anchor = value.split("?")[0].partition("#")
            target_name = os.path.normpath(Path(name).parent / target) if target else name
            resolved = self.html / target_name
            if target and not resolved.is_file():
                self.problem("links", name, f"{tag} points to a missing file: {value}")
                continue
            if anchor and target_name.endswith((".html", ".svg")):
                ids = self.ids_of(target_name)
                if ids is not None and anchor not in ids:
                    self.problem("links", name, f"{tag} points to a missing anchor: {value}")

    def check_assets(self) -> None:
        for name, page in self.pages.items():
            for tag, attribute, value in page.refs:
                loads = tag in ("script", "img", "iframe", "object", "embed", "source") or \
                    (tag == "link" and attribute == "href")
                if loads and re.match(r"^[a-z]+://|^//", value):
                    self.problem("assets", name, f"{tag} loads {value} from the network; the book must open "
                                                 f"offline")
        mathjax_pages = [(n, p) for n, p in self.pages.items() if "mathjax/MathJax.js" in p.source]
        if not mathjax_pages:
            self.problem("assets", "index.html", "no page loads mathjax/MathJax.js: is USE_MATHJAX on?")
            return
        name, page = mathjax_pages[0]
        extensions = re.findall(r'"([\w/.-]+\.js)"', page.mathjax_config.split("jax:")[0])
        jax = re.findall(r'"((?:input|output)/[\w-]+)"', page.mathjax_config)
        needed = ["MathJax.js"] + [f"extensions/{e}" for e in extensions]
        for j in jax:
            needed += [f"jax/{j}/config.js", f"jax/{j}/jax.js"]
        if "output/HTML-CSS" in jax:
            needed += ["jax/element/mml/jax.js", "jax/output/HTML-CSS/fonts/TeX/fontdata.js"] + \
                [f"fonts/HTML-CSS/TeX/woff/MathJax_{font}.woff" for font in
                 ("Main-Regular", "Math-Italic", "Size1-Regular", "Size2-Regular")]
        for relative in needed:
            path = self.html / "mathjax" / relative
            if path.is_symlink() or not path.is_file() or path.stat().st_size == 0:
                state = "a link" if path.is_symlink() else ("empty" if path.is_file() else "missing")
                self.problem("assets", f"mathjax/{relative}", f"MathJax file is {state}; the pages need it "
                                                              f"(tools/book_assets.py copies it)")

    def check_chapters(self) -> None:
        chapters = book_filter.chapters(self.root)
        js, tree = self.tree_children("chapters.html") or ("navtreedata.js", [])
        tree = [url for url in tree if "#" not in url]
        expected = [f"{c.label}.html" for c in chapters]
        if tree != expected:
            self.problem("chapters", js, f"the navigation tree lists the chapters as {tree}, "
                                                   f"expected {expected}")
        for i, chapter in enumerate(chapters):
            name = f"{chapter.label}.html"
            page = self.pages.get(name)
            if page is None:
                self.problem("chapters", name, f"chapter {chapter.folder} has no page")
                continue
            if not page.title.startswith(f"Chapter {chapter.number}:"):
                self.problem("chapters", name, f"the title is '{page.title}', expected 'Chapter {chapter.number}: "
                                               f"...' (the README's first line)")
            prose = "".join(page.all_text)
            at = next((k for k, h in enumerate(page.headings) if "check your work" in h.lower()), None)
            if at is None:
                self.problem("chapters", name, "no 'Check your work' section")
            elif f"./course check {chapter.number}" not in prose:
                self.problem("chapters", name, f"'Check your work' does not name ./course check {chapter.number}")
            previous = f"{chapters[i - 1].label}.html" if i > 0 else "chapters.html"
            following = f"{chapters[i + 1].label}.html" if i + 1 < len(chapters) else "api.html"
            if page.chapter_nav != [previous, following]:
                self.problem("chapters", name, f"the chapter links at the end go to {page.chapter_nav}, expected "
                                               f"[{previous}, {following}]")

    def check_solutions(self) -> None:
        import skeletons

        # Every TODO region with its telling lines: long enough not to be a line any code could have.
        regions: list[tuple[str, list[str]]] = []
        for path in sorted((self.root / "solutions").rglob("*")):
            if path.suffix not in skeletons.CODE_SUFFIXES or not path.is_file():
                continue
            for region in skeletons.parse(path).regions:
                lines = [" ".join(line.split()) for line in region.body]
                lines = [line for line in lines if len(line) >= SOLUTION_LINE_MIN]
                if lines:
                    regions.append((f"{path.relative_to(self.root)} ({region.function})", lines))
        for _, name in self.source_pages():
            page = self.pages.get(name)
            if page is None:
                continue
            text = " ".join("".join(page.all_text).split())
            for where, lines in regions:
                shown = [line for line in lines if line in text]
                if len(shown) >= min(SOLUTION_LINES_SHOWN, len(lines)):
                    self.problem("solutions", name, f"shows {len(shown)} of the {len(lines)} telling lines of the "
                                                    f"reference solution {where}: " + " | ".join(shown))

    def run(self, rules: list[str]) -> list[Problem]:
        for rule in rules:
            getattr(self, "check_" + rule.replace("-", "_"))()
        return self.problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, required=True, help="the book's HTML folder")
    parser.add_argument("--root", type=Path, default=book_filter.ROOT, help="the repository")
    parser.add_argument("--rules", default=",".join(RULES), help=f"comma-separated subset of {','.join(RULES)}")
    args = parser.parse_args()
    rules = [r for r in args.rules.split(",") if r]
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        parser.error(f"unknown rule(s) {unknown}; the rules are {', '.join(RULES)}")
    if not (args.html / "index.html").is_file():
        print(f"book check: {args.html}/index.html does not exist; build the book first (./course book)",
              file=sys.stderr)
        return 1
    book = Book(args.html, args.root.resolve())
    problems = book.run(rules)
    for problem in problems:
        print(problem, flush=True)
    if problems:
        print(f"book check: {len(problems)} problem(s) in {args.html}", file=sys.stderr)
        return 1
    print(f"book check: {len(book.pages)} pages pass ({', '.join(rules)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
