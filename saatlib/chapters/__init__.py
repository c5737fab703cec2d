"""What the book's chapters call besides the library itself.

- :mod:`~saatlib.chapters.settings`  :func:`setup` (a chapter's first cell: profile,
  device, seeds, logs, figure style) and :func:`dash_missing` (tables show "–")
- :mod:`~saatlib.chapters.records`   :func:`record` (a number for the tests, stored
  invisibly in the executed notebook) and :func:`read_records`
- :mod:`~saatlib.chapters.runner`    executing chapters with papermill (``make chapters``);
  imported on its own, as it loads papermill

A chapter reads ``from saatlib import chapters`` and calls ``chapters.setup(...)``
and ``chapters.record(...)`` (in hidden cells). Its cached runs and scores come
from the experiments layer (:mod:`saatlib.experiments.retrieval`), its
explorers from :mod:`saatlib.widgets`.
"""
from saatlib.chapters.records import RECORD_PREFIX, read_records, record
from saatlib.chapters.settings import MISSING, dash_missing, setup, style_figures

__all__ = ["MISSING", "RECORD_PREFIX", "dash_missing", "read_records", "record", "setup", "style_figures"]
