#!/usr/bin/env python3
"""Prints the worst relative error each gradient check of a test executable measured (passing ones too).

Usage: python3 tools/worst_errors.py build/reference/tests/test_ch02 [more executables]
Course developers use it to report the measured accuracy of a chapter's gradients.
"""
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

PATTERN = re.compile(r"gradient check of (.+?) (?:passed|FAILED): worst relative error ([0-9.eE+-]+)")


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    for exe in sys.argv[1:]:
        out = subprocess.run([exe, "-r", "xml", "-s"], capture_output=True, text=True).stdout
        worst: dict[str, float] = {}
        for expanded in ET.fromstring(out).iter("Expanded"):
            for name, value in PATTERN.findall(" ".join((expanded.text or "").split())):
                worst[name] = max(worst.get(name, 0.0), float(value))
        print(f"{exe}: {len(worst)} gradients checked")
        for name, value in sorted(worst.items(), key=lambda kv: -kv[1]):
            print(f"  {value:9.2e}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
