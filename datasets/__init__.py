"""Fetching and preparing the datasets: python3 -m datasets.prepare."""
