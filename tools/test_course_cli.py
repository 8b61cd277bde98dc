#!/usr/bin/env python3
"""Tests of ./course's system detection and package table (tools/course.py, tools/packages.txt).

They need no build and no network: /etc/os-release files are written to a temporary folder, and apt-get is
replaced by a function that fails the test if anything tries to install.
"""
from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import course  # noqa: E402


class SystemTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def os_release(self, text: str) -> Path:
        path = Path(self.tmp.name) / "os-release"
        path.write_text(text)
        return path

    def test_debian_12_and_13_and_ubuntu_are_told_apart(self):
        bookworm = self.os_release('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
        self.assertEqual(course.this_system(bookworm), ("debian-12", "Debian GNU/Linux 12 (bookworm)"))
        trixie = self.os_release('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nID=debian\n')
        self.assertEqual(course.this_system(trixie)[0], "debian-13")
        noble = self.os_release('NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n'
                                'PRETTY_NAME="Ubuntu 24.04.1 LTS"\n')
        self.assertEqual(course.this_system(noble), ("ubuntu-24.04", "Ubuntu 24.04.1 LTS"))

    def test_debian_testing_without_a_version_is_not_a_tested_release(self):
        forky = self.os_release('PRETTY_NAME="Debian GNU/Linux forky/sid"\nID=debian\nVERSION_CODENAME=forky\n')
        system, _ = course.this_system(forky)
        self.assertNotIn(system, course.TESTED)
        self.assertEqual(course.column_for(system), "debian-13")


class PackageTableTest(unittest.TestCase):
    def test_every_need_has_a_package_on_both_tested_releases(self):
        needs = course.package_table()
        self.assertGreater(len(needs), 15)
        for need in needs:
            for system in course.TESTED:
                self.assertNotEqual(need.packages[system], "-", f"{need.name} has no package on {system}")

    def test_the_releases_differ_where_debian_renamed_a_package(self):
        by_need = {need.name: need.packages for need in course.package_table()}
        self.assertEqual(by_need["clang-runtime"]["debian-12"], "libclang-rt-14-dev")
        self.assertEqual(by_need["clang-runtime"]["debian-13"], "libclang-rt-dev")
        self.assertEqual(by_need["catch2"]["debian-12"], "catch2")
        self.assertEqual(by_need["catch2"]["debian-13"], "libcatch2-dev")

    def test_an_if_missing_package_is_left_out_when_its_command_exists(self):
        with mock.patch.object(course.shutil, "which", return_value="/usr/bin/npm"):
            self.assertNotIn("npm", course.packages_for("debian-13"))
        with mock.patch.object(course.shutil, "which", return_value=None):
            self.assertIn("npm", course.packages_for("debian-13"))

    def test_a_line_with_a_missing_column_is_an_error_naming_the_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            table = Path(tmp) / "packages.txt"
            table.write_text("# comment\ncompiler g++ g++ g++ gcc\ncmake cmake cmake cmake\n")
            with mock.patch.object(course, "PACKAGES_FILE", table):
                with self.assertRaises(course.CourseError) as raised:
                    course.package_table()
        self.assertIn("packages.txt:3: expected a need and 4 package names", str(raised.exception))


class InstallTest(unittest.TestCase):
    def install_on(self, system: tuple[str, str]) -> str:
        out = io.StringIO()
        refuse = mock.Mock(side_effect=AssertionError("apt-get must not run on an untested system"))
        with mock.patch.object(course, "this_system", return_value=system), \
                mock.patch.object(course, "apt_install", refuse), contextlib.redirect_stdout(out):
            course.install_missing()
        return out.getvalue()

    def test_an_untested_system_installs_nothing_and_names_its_packages(self):
        said = self.install_on(("ubuntu-24.04", "Ubuntu 24.04.1 LTS"))
        self.assertIn("this is Ubuntu 24.04.1 LTS, which the course does not test; it installs nothing here", said)
        self.assertIn("libclang-rt-18-dev", said)
        self.assertIn('README.md, section "Other systems"', said)

    def test_a_system_without_a_column_gets_debian_13_names(self):
        said = self.install_on(("fedora-41", "Fedora Linux 41"))
        self.assertIn("(debian-13 names", said)
        self.assertIn("libcatch2-dev", said)


if __name__ == "__main__":
    unittest.main()
