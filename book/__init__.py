"""The book's pipeline: python3 -m book.filter, book.assets, book.check."""
