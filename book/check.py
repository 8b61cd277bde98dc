"""Checks the book's generated HTML for what Doxygen's warnings do not catch (book/README.md, "The check").

  python3 -m book.check --html BUILD/book/html [--root REPO] [--rules raw-tex cut-short ...]   (exit 1 on a problem)
"""
import argparse
import contextlib
import functools
import json
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from book import filter as book_filter

RULES = ("raw-tex", "raw-markdown", "cut-short", "links", "assets", "chapters", "solutions", "figures")
# The figures each chapter must show that programs/figures draws: (at least, of them animated .gif). A chapter
# not listed needs one. Chapter 5 (the convolution) explains with pictures most of all.
FIGURES_NEEDED = {5: (6, 1)}
FIGURES_MADE = Path("programs") / "figures" / "sources.txt"  # "checksum  path" of each figure drawn
FIGURE_MISSING = re.compile(r'<div class="figure-missing">(.*?)</div>', re.S)
# TeX that MathJax did not get: a dollar, Doxygen's \f$ \f[ \f] \f{, a TeX command (also Doxygen's \_form#2),
# escaped braces or bars, a sub- or superscript group, or a \( \[ \) \] left without its partner.
RAW_TEX = re.compile(r"\$|\\f[$\[\]{}]|\\[A-Za-z_]{2,}|\\[{}|]|[_^]\{|\\[()\[\]]")
RAW_MARKDOWN = re.compile(r"`|\*\*|\]\(")  # a stray backtick, bold markers, the middle of a link
MATH_REGION = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)  # what MathJax typesets (\f$ and \f[ in HTML)
NETWORK = re.compile(r"^[a-z]+://|^//")
CODE_TAGS = {"pre", "code", "tt", "script", "style", "kbd", "samp"}
CODE_CLASSES = {"fragment", "ttc", "line"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
             "wbr"}
# A page shows a TODO region when it holds two of its telling lines (all, if it has fewer): one line, such
# as an allocation, is a hint. Lines under 24 characters are too common to tell (`return grads;`, `}`).
SOLUTION_LINE_MIN, SOLUTION_LINES_SHOWN = 24, 2


class Page(HTMLParser):
    """What the checks need from one HTML page: its ids; its refs (tag, attribute, value); its prose, the
    visible text outside code; all_text, code too but no numbered snippets (the learner's code); headings,
    h1..h6 and the title; chapter_nav, the hrefs inside div.chapter-nav."""

    def __init__(self, path: Path):
        super().__init__(convert_charrefs=True)
        self.source = path.read_text(encoding="utf-8", errors="replace")
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []
        self.prose, self.all_text, self.headings, self.chapter_nav = [], [], [], []
        self.title, self.heading = "", None
        self.stack: list[tuple[str, bool, bool, bool]] = [("", False, False, False)]  # tag, code, snippet, nav
        # A fragment with line anchors (<a id="l00042">) is a \snippet{lineno} of the learner's own header.
        self.feed(re.sub(r'<div class="fragment">(?=(?:(?!</div><!-- fragment -->).)*<a id="l\d+")',
                         '<div class="fragment snippet">', self.source, flags=re.S))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.ids.update(values[name] for name in ("id", "name") if name in values)
        self.refs += [(tag, name, values[name]) for name in ("href", "src", "data") if name in values]
        if tag in VOID_TAGS:
            return
        classes = set(values.get("class", "").split())
        _, code, snippet, nav = self.stack[-1]
        nav = nav or (tag == "div" and "chapter-nav" in classes)
        if nav and tag == "a" and "href" in values:
            self.chapter_nav.append(values["href"])
        if tag in HEADINGS or (tag == "div" and "title" in classes):
            self.heading = (tag, [])
        self.stack.append((tag, code or tag in CODE_TAGS or bool(classes & CODE_CLASSES), snippet or "snippet" in
                           classes, nav))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        names = [entry[0] for entry in self.stack]
        if tag in names[1:]:  # Doxygen's HTML is well nested, but be lenient
            del self.stack[len(names) - 1 - names[::-1].index(tag):]
        if self.heading and self.heading[0] == tag:
            self.headings.append(" ".join("".join(self.heading[1]).split()))
            self.title = self.headings[-1] if tag == "div" else self.title
            self.heading = None
        self.prose.append("\n")

    def handle_data(self, data: str) -> None:
        tag, code, snippet, _ = self.stack[-1]
        if tag not in ("script", "style"):
            if self.heading:
                self.heading[1].append(data)
            if not snippet:
                self.all_text.append(data)
            if not code:
                self.prose.append(data)


class Book:
    def __init__(self, html: Path, root: Path):
        self.html, self.root, self.rule = html, root, ""
        self.pages = {p.relative_to(html).as_posix(): Page(p) for p in sorted(html.rglob("*.html"))
                      if "mathjax" not in p.relative_to(html).parts}
        self.problems: list[str] = []

    def problem(self, page: str, message: str) -> None:
        self.problems.append(f"[{self.rule}] {page}: {message}")

    @functools.cached_property
    def tree(self) -> list[tuple[str, list, tuple[str, list | None]]]:
        """(file, node, (file, children)) of every node of the navigation tree, `var NAME = [ [ "title",
        "page.html#anchor", children ], ... ];` in .js files. Doxygen 1.9.4 writes each top page's subtree to
        a file of its own (chapters.js) and names it as the parent's children; 1.9.8 writes the whole tree
        into navtreedata.js. So the files are read as data, and each variable is walked on its own."""
        trees = {}  # NAME -> (file name, value), but the search index's
        for path in sorted(self.html.glob("*.js")):
            for match in re.finditer(r"^var (\w+) *=\s*(\[.*?^\]);", path.read_text(errors="replace"), re.S | re.M):
                with contextlib.suppress(json.JSONDecodeError):
                    if not match.group(1).startswith("NAVTREEINDEX"):
                        trees[match.group(1)] = (path.name, json.loads(match.group(2)))
        nodes, stack = [], list(trees.values())
        while stack:
            js, children = stack.pop()
            for node in children:
                if isinstance(node, list) and len(node) >= 2 and isinstance(node[0], str):
                    below = node[2] if len(node) > 2 else None
                    if isinstance(below, list):
                        stack.append((js, below))
                    nodes.append((js, node, trees.get(below, (f"{below}.js", None)) if isinstance(below, str)
                                  else (js, below)))
        return nodes

    def source_pages(self) -> list[tuple[Path, str]]:
        """(Markdown source, HTML page) for every chapter README and every page in book/."""
        result = [(self.root / "chapters" / c.folder / "README.md", f"{c.label}.html")
                  for c in book_filter.chapters(self.root)]
        for path in sorted((self.root / "book").glob("*.md")):
            label = re.search(r"\{#([\w-]+)\}", path.read_text(encoding="utf-8").split("\n", 1)[0])
            if path.name == "mainpage.md" or (label and path.name != "README.md"):
                result.append((path, "index.html" if path.name == "mainpage.md" else f"{label.group(1)}.html"))
        return result

    def check_raw_tex(self) -> None:  # also raw-markdown
        pattern, what = (RAW_TEX, "outside MathJax") if self.rule == "raw-tex" else (RAW_MARKDOWN, "outside code")
        for name, page in self.pages.items():
            text = MATH_REGION.sub(" ", "".join(page.prose))
            for match in pattern.finditer(text):
                context = " ".join(text[max(0, match.start() - 40):match.end() + 40].split())
                self.problem(name, f"'{match.group()}' {what} in: ...{context}...")
        for js, node, _ in self.tree if self.rule == "raw-tex" else ():
            if RAW_TEX.search(MATH_REGION.sub(" ", node[0])) or MATH_REGION.search(node[0]):
                self.problem(js, "navigation-tree title shows TeX (MathJax does not typeset the tree; keep math in "
                                 f"headings plain): {node[0]!r}")

    check_raw_markdown = check_raw_tex

    def check_cut_short(self) -> None:
        for name, page in self.pages.items():
            if not name.startswith("search/") and not (page.source.rstrip().endswith("</html>")
                                                      and "<!-- start footer part -->" in page.source):
                self.problem(name, "the page does not end with Doxygen's footer and </html>")
        for source, name in self.source_pages():
            page, where = self.pages.get(name), source.relative_to(self.root)
            if page is None:
                self.problem(name, f"no page for {where}")
                continue
            for index, _, raw in book_filter.headings(source.read_text(encoding="utf-8")):
                if (text := " ".join(book_filter.heading_text(raw).split())) not in page.headings:
                    self.problem(name, f"heading '{text}' of {where}:{index + 1} is missing: the page was cut short "
                                       f"(a \\{{ outside math?) or the heading lost")
            if source.name == "README.md" and not page.chapter_nav:
                self.problem(name, "the chapter links at the end of the page are missing: the page was cut short")

    def check_links(self) -> None:
        refs = [(name, tag, value) for name, page in self.pages.items() for tag, _, value in page.refs]
        refs += [(js, "tree", node[1] or "") for js, node, _ in self.tree]
        for svg in sorted(self.html.glob("*.svg")):
            # Only links out of a drawing: Doxygen's own logo refers to a missing #path141 inside it.
            refs += [(svg.name, "a", v) for v in re.findall(r'href="([^"#][^"]*)"', svg.read_text(errors="replace"))]
        for name, tag, value in refs:
            if not value or value.startswith(("javascript:", "mailto:")) or NETWORK.match(value):
                continue
            target, _, anchor = value.split("?")[0].partition("#")
            target = os.path.normpath(Path(name).parent / target) if target else name
            if not (self.html / target).is_file():
                self.problem(name, f"{tag} points to a missing file: {value}")
            elif anchor and target.endswith((".html", ".svg")):
                ids = self.pages[target].ids if target in self.pages else \
                    set(re.findall(r'\bid="([^"]+)"', (self.html / target).read_text(errors="replace")))
                if anchor not in ids:
                    self.problem(name, f"{tag} points to a missing anchor: {value}")

    def check_assets(self) -> None:
        for name, page in self.pages.items():
            for tag, attribute, value in page.refs:
                if (tag in ("script", "img", "iframe", "object", "embed", "source") or
                        (tag == "link" and attribute == "href")) and NETWORK.match(value):
                    self.problem(name, f"{tag} loads {value} from the network; the book must open offline")
        page = next((p for p in self.pages.values() if "mathjax/MathJax.js" in p.source), None)
        config = page and re.search(r'<script type="text/x-mathjax-config">(.*?)</script>', page.source, re.S)
        if not config:
            return self.problem("index.html", "no page loads mathjax/MathJax.js: is USE_MATHJAX on?")
        config = config.group(1)
        jax = re.findall(r'"((?:input|output)/[\w-]+)"', config)
        needed = ["MathJax.js"] + [f"extensions/{e}" for e in re.findall(r'"([\w/.-]+\.js)"', config.split("jax:")[0])]
        needed += [f"jax/{j}/{f}" for j in jax for f in ("config.js", "jax.js")]
        if "output/HTML-CSS" in jax:
            needed += ["jax/element/mml/jax.js", "jax/output/HTML-CSS/fonts/TeX/fontdata.js"] + \
                [f"fonts/HTML-CSS/TeX/woff/MathJax_{f}.woff" for f in ("Main-Regular", "Math-Italic", "Size1-Regular",
                                                                        "Size2-Regular")]
        for relative in needed:
            path = self.html / "mathjax" / relative
            if path.is_symlink() or not path.is_file() or path.stat().st_size == 0:
                state = "a link" if path.is_symlink() else ("empty" if path.is_file() else "missing")
                self.problem(f"mathjax/{relative}", f"MathJax file is {state}; the pages need it (book/book.cmake "
                                                    f"copies it)")

    def check_chapters(self) -> None:
        chapters = book_filter.chapters(self.root)
        js, tree = next((below for _, node, below in self.tree if node[1] == "chapters.html"), ("navtreedata.js", []))
        tree = [child[1] for child in tree or [] if isinstance(child, list) and "#" not in (child[1] or "#")]
        if tree != (expected := [f"{c.label}.html" for c in chapters]):
            self.problem(js, f"the navigation tree lists the chapters as {tree}, expected {expected}")
        for i, chapter in enumerate(chapters):
            name = f"{chapter.label}.html"
            if (page := self.pages.get(name)) is None:
                self.problem(name, f"chapter {chapter.folder} has no page")
                continue
            if not page.title.startswith(f"Chapter {chapter.number}:"):
                self.problem(name, f"the title is '{page.title}', expected 'Chapter {chapter.number}: ...' (the "
                                   f"README's first line)")
            if not any("check your work" in h.lower() for h in page.headings):
                self.problem(name, "no 'Check your work' section")
            elif f"./course check {chapter.number}" not in "".join(page.all_text):
                self.problem(name, f"'Check your work' does not name ./course check {chapter.number}")
            links = [f"{chapters[i - 1].label}.html" if i > 0 else "chapters.html",
                     f"{chapters[i + 1].label}.html" if i + 1 < len(chapters) else "api.html"]
            if page.chapter_nav != links:
                self.problem(name, f"the chapter links at the end go to {page.chapter_nav}, expected "
                                   f"[{', '.join(links)}]")

    def check_solutions(self) -> None:
        from checks import skeletons

        regions = []  # (where, telling lines) of every TODO region of the reference solution
        for path in sorted((self.root / "solutions").rglob("*")):
            if path.suffix in skeletons.CODE_SUFFIXES and path.is_file():
                for region in skeletons.parse(path).regions:
                    lines = [s for s in (" ".join(line.split()) for line in region.body) if len(s) >= SOLUTION_LINE_MIN]
                    if lines:
                        regions.append((f"{path.relative_to(self.root)} ({region.function})", lines))
        for _, name in self.source_pages():
            text = " ".join("".join(self.pages[name].all_text).split()) if name in self.pages else ""
            for where, lines in regions:
                shown = [line for line in lines if line in text]
                if text and len(shown) >= min(SOLUTION_LINES_SHOWN, len(lines)):
                    self.problem(name, f"shows {len(shown)} of the {len(lines)} telling lines of the reference "
                                       f"solution {where}: " + " | ".join(shown))

    def check_figures(self) -> None:
        made_file = self.root / FIGURES_MADE
        made = {line.split(None, 1)[1].strip() for line in made_file.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")} if made_file.is_file() else set()
        shown: dict[str, list[str]] = {}  # chapter page -> the figures of programs/figures it names
        for source, name in self.source_pages():
            where, page = source.relative_to(self.root), self.pages.get(name)
            sources = {value for tag, _, value in page.refs if tag == "img"} if page else set()
            for line, path, alt in book_filter.images(source, self.root):
                if not (self.root / path).is_file():
                    self.problem(name, f"{where}:{line} shows {path}, which does not exist (draw it with ./course "
                                       f"figures, or correct the name)")
                    continue
                if not alt.strip():
                    self.problem(name, f"{where}:{line} shows {path} without alt text: say in one or two sentences "
                                       f"what it shows")
                if page and f"{book_filter.IMAGE_FOLDER}/{path}" not in sources:
                    self.problem(name, f"the page does not show {path}, which {where}:{line} names")
                if path in made:
                    shown.setdefault(name, []).append(path)
        for chapter in book_filter.chapters(self.root):
            name, (least, animated) = f"{chapter.label}.html", FIGURES_NEEDED.get(chapter.number, (1, 0))
            figures = shown.get(name, [])
            gifs = [f for f in figures if f.endswith(".gif")]
            if len(figures) < least or len(gifs) < animated:
                self.problem(name, f"chapters/{chapter.folder}/README.md shows {len(figures)} figure(s) made by "
                                   f"programs/figures ({len(gifs)} animated), it needs at least {least}"
                                   + (f" ({animated} animated .gif)" if animated else "")
                                   + f": add them to programs/figures/ch{chapter.number:02d}.cpp, run ./course "
                                     f"figures and show them with ![alt](figures/NAME.svg)")
        for name, page in self.pages.items():
            for box in FIGURE_MISSING.findall(page.source):
                text = " ".join(re.sub(r"<[^>]+>", "", box).split())
                self.problem(name, f"a figure of the programs is not in the book: '{text}' (./course start makes "
                                   f"them all)")

    def run(self, rules: list[str]) -> list[str]:
        for rule in rules:
            self.rule = rule
            getattr(self, "check_" + rule.replace("-", "_"))()
        return self.problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, required=True, help="the book's HTML folder")
    parser.add_argument("--root", type=Path, default=book_filter.ROOT, help="the repository")
    parser.add_argument("--rules", nargs="+", choices=RULES, default=RULES, metavar="RULE", help=", ".join(RULES))
    args = parser.parse_args()
    if not (args.html / "index.html").is_file():
        print(f"book check: {args.html}/index.html does not exist; build the book first (./course book)",
              file=sys.stderr)
        return 1
    book = Book(args.html, args.root.resolve())
    if problems := book.run(args.rules):
        print("\n".join(problems), flush=True)
        print(f"book check: {len(problems)} problem(s) in {args.html}", file=sys.stderr)
        return 1
    print(f"book check: {len(book.pages)} pages pass ({', '.join(args.rules)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
