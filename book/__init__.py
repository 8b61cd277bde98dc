"""The book's pipeline: python3 -m book.filter (run by Doxygen, which book/book.cmake runs) and book.check."""
