#!/usr/bin/env python3
"""Copies what the book's pages load but Doxygen does not write: MathJax and the figures.

  book_assets.py --html BUILD/book/html --build-dir BUILD [--root REPO] [--mathjax DIR]

MathJax 2 comes from Debian's libjs-mathjax, its web fonts from fonts-mathjax; only the part the book
uses is copied (about 2.5 MB): the TeX input, the HTML-CSS output with the TeX fonts only (book/mathjax-config.js
tells MathJax so), and the TeX woff fonts. Links are followed, so the book holds real files even where
Debian installs a file as a symlink. A figure named by a `<!-- figure: PATH | ... -->` line of a page is
copied from BUILD/PATH to html/figures/PATH when it exists (the filter shows a note when it does not).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_filter  # noqa: E402

MATHJAX = Path("/usr/share/javascript/mathjax")
# Relative to the MathJax folder. Doxygen's configuration loads MathJax.js with the tex2jax extension,
# the TeX input (with the AMS extensions of MATHJAX_EXTENSIONS) and the HTML-CSS output.
MATHJAX_SUBSET = [
    "MathJax.js",
    "extensions",
    "jax/input/TeX",
    "jax/element/mml",
    "jax/output/HTML-CSS/config.js",
    "jax/output/HTML-CSS/jax.js",
    "jax/output/HTML-CSS/imageFonts.js",
    "jax/output/HTML-CSS/autoload",
    "jax/output/HTML-CSS/fonts/TeX",
    "fonts/HTML-CSS/TeX/woff",
]


class AssetError(Exception):
    pass


def copy(source: Path, target: Path) -> int:
    """Copies a file or a folder, following links; returns the number of files. A dangling link fails."""
    if source.is_dir():
        return sum(copy(child, target / child.name) for child in sorted(source.iterdir()))
    if not source.is_file():  # also a symlink whose target is missing
        raise AssetError(f"{source} is missing or a broken link; reinstall libjs-mathjax and fonts-mathjax "
                         f"(./course setup)")
    if source.stat().st_size == 0:
        raise AssetError(f"{source} is empty")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)  # copies the content, never the link
    return 1


def copy_mathjax(mathjax: Path, html: Path) -> int:
    if not (mathjax / "MathJax.js").is_file():
        raise AssetError(f"MathJax 2 is not in {mathjax}; install libjs-mathjax and fonts-mathjax (./course setup)")
    target = html / "mathjax"
    if target.exists():
        shutil.rmtree(target)
    return sum(copy(mathjax / part, target / part) for part in MATHJAX_SUBSET)


def copy_figures(root: Path, build_dir: Path, html: Path) -> list[str]:
    pages = sorted((root / "chapters").glob("[0-9][0-9]_*/README.md")) + sorted((root / "book").glob("*.md"))
    copied = []
    for page in pages:
        for name in book_filter.figures(page.read_text(encoding="utf-8")):
            source = build_dir / name
            if source.is_file():
                copy(source, html / "figures" / name)
                copied.append(name)
    return copied


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
        files = copy_mathjax(args.mathjax, args.html)
        figures = copy_figures(args.root, args.build_dir, args.html)
    except (AssetError, OSError) as e:
        print(f"book_assets: error: {e}", file=sys.stderr)
        return 1
    print(f"book_assets: copied MathJax ({files} files) and {len(figures)} figure(s) into {args.html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
