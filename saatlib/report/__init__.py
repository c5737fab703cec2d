"""The reproduction report: the paper's numbers, our tables beside them, the verdicts and their sentences.

- :mod:`~saatlib.report.paper`      the paper's published Table I and Table II (CSV files in ``saatlib/resources``)
- :mod:`~saatlib.report.tables`     the rows and columns of Table I and Table II (defined once), our columns
  beside the paper's, paired per-query differences, Markdown tables
- :mod:`~saatlib.report.verdicts`   the paper's claims checked on a table: rankings, verdicts, the paper's exceptions
- :mod:`~saatlib.report.text`       the chapters' computed sentences (Markdown)
- :mod:`~saatlib.report.reproduce`  ``python -m saatlib reproduce``: Table I (and II) and verdicts made of the runs of
  :mod:`saatlib.experiments.paper_tables`
"""
