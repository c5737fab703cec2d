"""Exceptions raised for bad or missing dataset files.

Every message names the file (and the line, where there is one) and says what
to do about it, so a reader can fix the data without reading this package.
"""
from __future__ import annotations


class DataError(ValueError):
    """A dataset file exists but its content is wrong (bad line, width, image)."""


class MissingDataError(DataError, FileNotFoundError):
    """A dataset file or folder that the loader needs is not there.

    It is both a :class:`DataError` and a :class:`FileNotFoundError`, so either
    ``except`` clause catches it.
    """
