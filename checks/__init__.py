"""The full suite's own checks: skeletons, mutations, fuzzing; run as python3 -m checks.NAME."""
