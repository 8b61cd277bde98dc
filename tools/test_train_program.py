#!/usr/bin/env python3
"""End-to-end tests of the training program: it trains and evaluates, and bad input stops it with a
one-line error that names the problem (never a crash, never a traceback).

Usage: python3 tools/test_train_program.py --train build/reference/tools/train/train

Every case makes its own small data folder (random images, so no download and no network) in a temporary
directory. The full test suite runs this file through CTest.
"""
from __future__ import annotations

import argparse
import random
import struct
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TRAIN: Path


def idx_images(n: int, size: int = 28, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    return struct.pack(">IIII", 0x803, n, size, size) + bytes(rng.randrange(256) for _ in range(n * size * size))


def idx_labels(labels: list[int]) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def make_folder(root: Path, n_train: int = 64, n_test: int = 32, size: int = 28) -> Path:
    folder = root / f"data{size}"
    folder.mkdir(exist_ok=True)
    (folder / "train-images-idx3-ubyte").write_bytes(idx_images(n_train, size, 1))
    (folder / "train-labels-idx1-ubyte").write_bytes(idx_labels([i % 10 for i in range(n_train)]))
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_images(n_test, size, 2))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_labels([i % 10 for i in range(n_test)]))
    return folder


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(TRAIN), *args], capture_output=True, text=True, timeout=600)


class TrainProgram(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def assert_one_line_error(self, result: subprocess.CompletedProcess, code: int, *fragments: str):
        self.assertEqual(result.returncode, code, f"exit code; stderr: {result.stderr}")
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"expected a one-line error, got: {result.stderr!r}")
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_trains_one_epoch_writes_its_files_and_evaluates_them(self):
        data, out = make_folder(self.root), self.root / "out"
        result = run("--data", str(data), "--epochs", "1", "--out", str(out))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("held-out accuracy:", result.stdout)
        metrics = (out / "metrics.csv").read_text().splitlines()
        self.assertEqual(metrics[0], "epoch,learning_rate,train_loss,test_loss,test_accuracy,seconds,images_per_second")
        self.assertEqual(len(metrics), 2)
        self.assertTrue((out / "weights.bin").stat().st_size > 4 * 44426)
        for picture in ("loss.png", "accuracy.png", "conv1_filters.png", "confusion.png", "mistakes.png"):
            self.assertTrue((out / picture).read_bytes().startswith(b"\x89PNG"), picture)
        evaluated = run("--data", str(data), "--evaluate", str(out / "weights.bin"), "--out", str(out / "eval"))
        self.assertEqual(evaluated.returncode, 0, evaluated.stderr)
        self.assertIn("held-out accuracy:", evaluated.stdout)
        self.assertIn("confusion matrix", evaluated.stdout)

    def test_a_truncated_image_file_is_a_one_line_error(self):
        data = make_folder(self.root)
        images = data / "train-images-idx3-ubyte"
        images.write_bytes(images.read_bytes()[:-100])
        self.assert_one_line_error(run("--data", str(data), "--epochs", "1", "--out", str(self.root / "o")), 2,
                                   "train-images-idx3-ubyte", "truncated")

    def test_a_wrong_magic_number_is_a_one_line_error(self):
        data = make_folder(self.root)
        labels = data / "t10k-labels-idx1-ubyte"
        labels.write_bytes(b"\x1f\x8b" + labels.read_bytes()[2:])
        self.assert_one_line_error(run("--data", str(data), "--epochs", "1", "--out", str(self.root / "o")), 2,
                                   "t10k-labels-idx1-ubyte: byte 0: wrong magic number")

    def test_a_label_of_12_is_a_one_line_error(self):
        data = make_folder(self.root)
        (data / "train-labels-idx1-ubyte").write_bytes(idx_labels([1, 2, 12] + [0] * 61))
        self.assert_one_line_error(run("--data", str(data), "--epochs", "1", "--out", str(self.root / "o")), 2,
                                   "label of sample 2 is 12 but must be below 10")

    def test_weights_of_another_shape_are_a_one_line_error(self):
        small, large = make_folder(self.root), make_folder(self.root, size=32)
        out = self.root / "out"
        self.assertEqual(run("--data", str(small), "--epochs", "1", "--out", str(out), "--no-plots").returncode, 0)
        self.assert_one_line_error(run("--data", str(large), "--evaluate", str(out / "weights.bin"), "--out",
                                       str(self.root / "o")), 2,
                                   "parameter 'fc1.W' has shape (256, 120) in the file but the network expects (400, 120)")

    def test_a_damaged_weights_file_is_a_one_line_error(self):
        data, out = make_folder(self.root), self.root / "out"
        self.assertEqual(run("--data", str(data), "--epochs", "1", "--out", str(out), "--no-plots").returncode, 0)
        weights = out / "weights.bin"
        weights.write_bytes(weights.read_bytes()[:1000])
        self.assert_one_line_error(run("--data", str(data), "--evaluate", str(weights), "--out", str(self.root / "o")),
                                   2, "weights.bin: byte")

    def test_a_diverging_run_stops_at_once_and_names_the_learning_rate(self):
        data, out = make_folder(self.root), self.root / "out"
        result = run("--data", str(data), "--epochs", "3", "--lr", "1e12", "--out", str(out), "--no-plots")
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertRegex(result.stderr, r"step \d+ of epoch \d+: the loss is (nan|infinite)")
        self.assertIn("the learning rate 1e+12 is probably too high", result.stderr)
        self.assertIn("no epoch finished, so no weights were saved", result.stderr)

    def test_a_missing_folder_is_a_one_line_error(self):
        self.assert_one_line_error(run("--data", str(self.root / "nowhere"), "--out", str(self.root / "o")), 2,
                                   "no such folder")


def main() -> int:
    global TRAIN
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True, help="the training program to test")
    args, rest = parser.parse_known_args()
    TRAIN = Path(args.train)
    if not TRAIN.exists():
        print(f"test_train_program: {TRAIN} does not exist (build the train target first)", file=sys.stderr)
        return 1
    return 0 if unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False).result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
