"""The learner's ./course command: python3 -m cli (the ./course shim sets PYTHONPATH)."""
