"""Copies what the book's pages load but Doxygen does not write: the part of MathJax 2 the book uses
(Debian's libjs-mathjax and fonts-mathjax, links followed), the pictures the pages show with
![alt](figures/NAME.svg) (from the repository to html/figures/<path in the repository>), and the figures of
the programs that exist (from BUILD/PATH to html/figures/PATH).

  python3 -m book.assets --html BUILD/book/html --build-dir BUILD [--root REPO] [--mathjax DIR]
"""
import argparse
import shutil
import sys
from pathlib import Path

from book import filter as book_filter

MATHJAX = Path("/usr/share/javascript/mathjax")
# What Doxygen's configuration loads: MathJax.js, the extensions, the TeX input and the HTML-CSS output.
MATHJAX_SUBSET = ["MathJax.js", "extensions", "jax/input/TeX", "jax/element/mml", "jax/output/HTML-CSS/config.js",
                  "jax/output/HTML-CSS/jax.js", "jax/output/HTML-CSS/imageFonts.js", "jax/output/HTML-CSS/autoload",
                  "jax/output/HTML-CSS/fonts/TeX", "fonts/HTML-CSS/TeX/woff"]


class AssetError(Exception):
    pass


def copy(source: Path, target: Path) -> int:
    """Copies a file or a folder, following links; returns the number of files. A dangling link fails."""
    if source.is_dir():
        return sum(copy(child, target / child.name) for child in sorted(source.iterdir()))
    if not source.is_file() or source.stat().st_size == 0:  # also a symlink whose target is missing
        raise AssetError(f"{source} is missing, empty or a broken link; reinstall libjs-mathjax and fonts-mathjax "
                         f"(./course setup)")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # copies the content, never the link
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--html", type=Path, required=True, help="the book's HTML folder")
    parser.add_argument("--build-dir", type=Path, required=True, help="the build folder figures are found in")
    parser.add_argument("--root", type=Path, default=book_filter.ROOT, help="the repository")
    parser.add_argument("--mathjax", type=Path, default=MATHJAX, help=f"MathJax 2 (default {MATHJAX})")
    args = parser.parse_args()
    try:
        if not (args.html / "index.html").is_file():
            raise AssetError(f"{args.html} holds no index.html; run Doxygen first")
        if not (args.mathjax / "MathJax.js").is_file():
            raise AssetError(f"MathJax 2 is not in {args.mathjax}; install libjs-mathjax and fonts-mathjax "
                             f"(./course setup)")
        shutil.rmtree(args.html / "mathjax", ignore_errors=True)
        files = sum(copy(args.mathjax / part, args.html / "mathjax" / part) for part in MATHJAX_SUBSET)
        pages = [*(args.root / "chapters").glob("[0-9][0-9]_*/README.md"), *(args.root / "book").glob("*.md")]
        figures = [name for page in sorted(pages) for name in book_filter.figures(page.read_text(encoding="utf-8"))
                   if (args.build_dir / name).is_file()]
        for name in figures:
            copy(args.build_dir / name, args.html / book_filter.IMAGE_FOLDER / name)
        # A missing picture is left out: the check names it ("figures" rule), and the link check fails too.
        pictures = sorted({path for page in pages for _, path, _ in book_filter.images(page, args.root)
                           if (args.root / path).is_file()})
        for path in pictures:
            copy(args.root / path, args.html / book_filter.IMAGE_FOLDER / path)
    except (AssetError, OSError) as e:
        print(f"book.assets: error: {e}", file=sys.stderr)
        return 1
    print(f"book.assets: copied MathJax ({files} files), {len(pictures)} chapter picture(s) and {len(figures)} "
          f"figure(s) of the programs into {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
