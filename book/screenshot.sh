#!/bin/sh
# A headless-Chromium screenshot of one page of the book, to see that the formulas render (offline,
# from disk, as a reader opens the book). Not part of the test suite, and Chromium is not a course
# requirement: install it only for this (apt-get install --no-install-recommends chromium).
#
#   book/screenshot.sh [PAGE] [--html DIR] [--width PIXELS] [--height PIXELS] [--web-fonts]
#
# PAGE is a chapter number (5), a page name (ch05, api) or a file name (ch05.html), optionally with an
# #anchor to start further down (ch01#ch01-6-the-code). Default: the Conv2D chapter (ch05) once it
# exists, else chapter 1. DIR defaults to build/reference/book/html (./course book).
# The PNG goes to DIR/../screenshots/PAGE.png, inside the build folder, never into the repository. The
# script also prints how many formulas MathJax typeset and how many it could not. --web-fonts hides the
# MathJax fonts that fonts-mathjax installs on this system, so MathJax must load the copies in the book,
# as on a reader's machine without them.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
html="$root/build/reference/book/html"
page=""
width=1280
height=2400
web_fonts=no
while [ $# -gt 0 ]; do
  case "$1" in
    --html) html=$2; shift 2 ;;
    --width) width=$2; shift 2 ;;
    --height) height=$2; shift 2 ;;
    --web-fonts) web_fonts=yes; shift ;;
    -h|--help) sed -n "2,14p" "$0"; exit 0 ;;
    *) page=$1; shift ;;
  esac
done

if [ ! -f "$html/index.html" ]; then
  echo "book_screenshot: $html/index.html does not exist; build the book first: ./course book" >&2
  exit 1
fi
html=$(cd "$html" && pwd)

anchor=""
case "$page" in
  *"#"*) anchor="#${page#*#}"; page=${page%%#*} ;;
esac
case "$page" in
  "") if [ -f "$html/ch05.html" ]; then page=ch05; else page=ch01; fi ;;
  [0-9]) page=ch0$page ;;
  [0-9][0-9]) page=ch$page ;;
esac
page=${page%.html}
if [ ! -f "$html/$page.html" ]; then
  echo "book_screenshot: there is no page $html/$page.html" >&2
  exit 1
fi

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [ -z "$browser" ]; then
  echo "book_screenshot: Chromium is not installed. It is not needed for the course, only for this script:" >&2
  echo "  sudo apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi

out_dir=$(dirname "$html")/screenshots
mkdir -p "$out_dir"
png="$out_dir/$page$(echo "$anchor" | tr '#' '-').png"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

if [ "$web_fonts" = yes ]; then
  # Every font folder but fonts-mathjax's (fontconfig reads FONTCONFIG_FILE instead of its usual setup).
  {
    echo '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
    for dir in /usr/share/fonts/*/* /usr/local/share/fonts; do
      case "$dir" in */mathjax) ;; *) [ -d "$dir" ] && echo "<dir>$dir</dir>" ;; esac
    done
    # The system's aliases (monospace, sans-serif), so that only the MathJax fonts are missing.
    echo '<include ignore_missing="yes">/etc/fonts/conf.d</include>'
    echo "<cachedir>$profile/fontconfig</cachedir></fontconfig>"
  } >"$profile/fonts.conf"
  export FONTCONFIG_FILE="$profile/fonts.conf"
fi

# A fresh profile and no background traffic: the page must render from disk alone. The virtual time
# budget lets MathJax finish typesetting before the picture is taken; 5 virtual seconds are enough with
# the system's MathJax fonts, loading the web fonts from disk takes MathJax about 20.
flags="--headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run
       --virtual-time-budget=30000 --hide-scrollbars --user-data-dir=$profile"
# shellcheck disable=SC2086  # the flags are words on purpose
"$browser" $flags --window-size="$width,$height" --screenshot="$png" "file://$html/$page.html$anchor" \
  >"$profile/screenshot.log" 2>&1 || { cat "$profile/screenshot.log" >&2; exit 1; }
# shellcheck disable=SC2086
"$browser" $flags --dump-dom "file://$html/$page.html" >"$profile/dom.html" 2>"$profile/dom.log" || true

# MathJax 2 replaces each formula by a span of class "MathJax" and keeps its TeX in a math/tex script.
formulas=$(grep -o 'type="math/tex' "$profile/dom.html" | wc -l)
typeset=$(grep -o 'class="MathJax"' "$profile/dom.html" | wc -l)
errors=$(grep -o 'class="merror"\|Math Processing Error' "$profile/dom.html" | wc -l)
echo "book_screenshot: $png"
echo "book_screenshot: MathJax typeset $typeset of $formulas formula(s) on $page.html, with $errors error(s)"
if [ "$typeset" -ne "$formulas" ] || [ "$errors" -ne 0 ]; then
  echo "book_screenshot: some formulas did not render: is $html/mathjax complete? Look at the picture." >&2
  exit 1
fi
if [ "$formulas" -eq 0 ] && grep -q '\\(' "$html/$page.html"; then
  echo "book_screenshot: the page has formulas but MathJax did not run: is $html/mathjax complete?" >&2
  exit 1
fi
