"""End-to-end tests of the training program: it trains and evaluates, and bad input stops it with a
one-line error (never a crash or a traceback). Each case makes its own small random data folder.

Usage: python3 -m checks.test_train_program --train build/reference/programs/train/train
"""
import argparse
import random
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib
from pathlib import Path

TRAIN: Path


def idx_images(n: int, size: int = 28, seed: int = 0) -> bytes:
    return struct.pack(">IIII", 0x803, n, size, size) + random.Random(seed).randbytes(n * size * size)


def idx_labels(labels: list[int]) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + bytes(labels)


def make_folder(root: Path, n_train: int = 64, n_test: int = 32, size: int = 28) -> Path:
    folder = root / f"data{size}"
    folder.mkdir(exist_ok=True)
    for part, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        (folder / f"{part}-images-idx3-ubyte").write_bytes(idx_images(n, size, seed))
        (folder / f"{part}-labels-idx1-ubyte").write_bytes(idx_labels([i % 10 for i in range(n)]))
    return folder


class TrainProgram(unittest.TestCase):
    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def train(self, data: Path, *args: str, out: str = "o") -> subprocess.CompletedProcess:
        command = [str(TRAIN), "--data", str(data), "--out", str(self.root / out), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=600)

    def trained_weights(self) -> tuple[Path, Path]:
        data = make_folder(self.root)
        self.assertEqual(self.train(data, "--epochs", "1", "--no-plots", out="out").returncode, 0)
        return data, self.root / "out" / "weights.bin"

    def assert_one_line_error(self, result: subprocess.CompletedProcess, code: int, *fragments: str):
        self.assertEqual(result.returncode, code, f"exit code; stderr: {result.stderr}")
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"expected a one-line error, got: {result.stderr!r}")
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_trains_one_epoch_writes_its_files_and_evaluates_them(self):
        data, out = make_folder(self.root), self.root / "out"
        result = self.train(data, "--epochs", "1", out="out")
        self.assertEqual(result.returncode, 0, result.stderr)
        # the first line says which data and why, the second how much of it
        first, second = result.stdout.splitlines()[:2]
        self.assertEqual(first, "data:    data28 (chosen with --data)")
        self.assertIn("64 training and 32 test images of 1 x 28 x 28", second)
        self.assertIn("held-out accuracy:", result.stdout)
        metrics = (out / "metrics.csv").read_text().splitlines()
        self.assertEqual(metrics[0], "epoch,learning_rate,train_loss,test_loss,test_accuracy,seconds,images_per_second,"
                                     "elapsed_seconds")
        self.assertEqual(len(metrics), 2)
        self.assertTrue((out / "weights.bin").stat().st_size > 4 * 44426)
        for picture in ("loss.png", "accuracy.png", "conv1_filters.png", "confusion.png", "mistakes.png"):
            self.assertTrue((out / picture).read_bytes().startswith(b"\x89PNG"), picture)
        evaluated = self.train(data, "--evaluate", str(out / "weights.bin"))
        self.assertEqual(evaluated.returncode, 0, evaluated.stderr)
        self.assertIn("held-out accuracy:", evaluated.stdout)
        self.assertIn("confusion matrix", evaluated.stdout)

    def test_a_damaged_data_file_is_a_one_line_error(self):
        for case, name, damage, *fragments in (
                ("truncated", "train-images-idx3-ubyte", lambda raw: raw[:-100],
                 "train-images-idx3-ubyte", "truncated"),
                ("wrong magic number", "t10k-labels-idx1-ubyte", lambda raw: b"\x1f\x8b" + raw[2:],
                 "t10k-labels-idx1-ubyte: byte 0: wrong magic number"),
                ("a label of 12", "train-labels-idx1-ubyte", lambda raw: idx_labels([1, 2, 12] + [0] * 61),
                 "label of sample 2 is 12 but must be below 10")):
            with self.subTest(case):
                data = make_folder(self.root)
                (data / name).write_bytes(damage((data / name).read_bytes()))
                self.assert_one_line_error(self.train(data), 2, *fragments)

    def test_weights_of_another_shape_are_a_one_line_error(self):
        weights = str(self.trained_weights()[1])
        self.assert_one_line_error(self.train(make_folder(self.root, size=32), "--evaluate", weights), 2,
                                   "'fc1.W' has shape (256, 120) in the file but the network expects (400, 120)")

    def test_a_damaged_weights_file_is_a_one_line_error(self):
        data, weights = self.trained_weights()
        weights.write_bytes(weights.read_bytes()[:1000])
        self.assert_one_line_error(self.train(data, "--evaluate", str(weights)), 2, "weights.bin: byte")

    def test_a_nan_weight_in_a_weights_file_is_a_one_line_error(self):
        data, weights = self.trained_weights()
        raw = bytearray(weights.read_bytes())
        raw[270:274] = struct.pack("<f", float("nan"))  # conv1.W's numbers start at byte 38; [2, 0, 1, 3] is number 58
        weights.write_bytes(raw[:-4] + struct.pack("<I", zlib.crc32(raw[:-4])))  # the right checksum: only NaN is wrong
        self.assert_one_line_error(self.train(data, "--evaluate", str(weights)), 2,
                                   "weights.bin: byte 270: conv1.W[2, 0, 1, 3] is NaN, but weights must be finite")

    def test_a_diverging_run_stops_names_the_tensor_and_keeps_the_good_weights(self):
        data, weights = self.trained_weights()  # a good run before, in the same folder
        good = weights.read_bytes()
        # 64 images in batches of 32: the second step of epoch 1 already meets the NaN of the first update
        result = self.train(data, "--epochs", "3", "--batch-size", "32", "--lr", "1e12", "--no-plots", out="out")
        self.assert_one_line_error(result, 3, "The learning rate 1e+12 is probably too high", "No epoch finished")
        self.assertRegex(result.stderr, r"^train: (conv|fc)\d\.d?[Wb]\[[\d, ]+\] is (NaN|[+-]infinity) after step")
        self.assertEqual(weights.read_bytes(), good)
        self.assertEqual(self.train(data, "--evaluate", str(weights)).returncode, 0)

    def test_a_weight_that_overflows_while_the_loss_is_finite_stops_training(self):
        # White images, all of class 0: with --lr 3e38 the first update overflows a weight to infinity, while the
        # loss of that step (measured before the update) is still finite. Checking only the loss would miss it.
        data = make_folder(self.root)
        (data / "train-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 0x803, 64, 28, 28) + b"\xff" * 64 * 784)
        (data / "train-labels-idx1-ubyte").write_bytes(idx_labels([0] * 64))
        self.assert_one_line_error(self.train(data, "--epochs", "1", "--lr", "3e38"), 3, ".W[",
                                   "infinity after step 1 of epoch 1, so training stopped")

    def test_overfit_learns_a_few_images_and_says_both_checks_passed(self):
        # Noise images with labels 0 to 9: the reference needs about 160 of the 300 steps for 20 of them at 0.05,
        # and fewer at 0.1. No held-out evaluation and no files.
        result = self.train(make_folder(self.root), "--overfit", "20", "--lr", "0.1")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertRegex(result.stdout, r"check 1, the first loss: \d\.\d{4}; expected close to ln\(10\) = 2\.3026, "
                                        r"between 2\.00 and 5\.30: passed")
        self.assertRegex(result.stdout, r"check 2, learning: the loss fell below 0\.01 after \d+ steps \(limit 300\)")
        self.assertIn("the network classifies 20 of the 20 images right", result.stdout)
        self.assertIn("overfit: both checks passed", result.stdout)
        self.assertNotIn("held-out accuracy", result.stdout)
        self.assertFalse((self.root / "o").exists())

    def test_overfit_with_a_learning_rate_far_too_small_fails_check_2_and_says_why(self):
        result = self.train(make_folder(self.root), "--overfit", "20", "--lr", "1e-5", "--overfit-steps", "20")
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(": passed\ncheck 2", result.stdout)  # check 1 does not depend on the learning rate
        self.assertIn("check 2, learning: the loss is still above 0.01 after 20 steps (limit 20)", result.stdout)
        self.assertIn(": FAILED\n  The last loss was", result.stdout)
        self.assertIn("a gradient is wrong", result.stdout)
        self.assertIn("the learning rate is too low or too high\n  (this run used 1e-05; the default is 0.05)",
                      result.stdout)
        self.assertIn("an update is missing", result.stdout)
        self.assertIn("overfit: check 2 failed.", result.stdout)

    def test_overfit_of_more_images_than_the_training_set_is_a_one_line_error(self):
        self.assert_one_line_error(self.train(make_folder(self.root), "--overfit", "65"), 2,
                                   "--overfit 65: data28 has only 64 training images")

    def test_a_missing_folder_is_a_one_line_error(self):
        self.assert_one_line_error(self.train(self.root / "nowhere"), 2, "no such folder")


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
