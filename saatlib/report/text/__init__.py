"""The book's computed sentences, chapter by chapter: findings, judged comparisons and measured curves as Markdown.

Chapters 2, 4, 5 and 6 state, from the numbers of the run, how the paper's
claims fare on our data, whether a defense shows symptoms of gradient masking,
and how MAP moves with the budget, the iterations or SAAT's lambda. The numbers
come from the run store and :mod:`saatlib.report.tables`; every comparison is
judged by :mod:`saatlib.report.rule` through :mod:`saatlib.report.comparisons`
and phrased by :mod:`saatlib.report.verdict_text`; the paper's own tables are
read by :mod:`saatlib.report.verdicts`. This module only writes them out, so
the chapters hold no sentence of their own and the wording is tested once,
here. Our values are fractions in [0, 1] (MAP), shown in %; the paper's are in %.

One module a chapter: :mod:`~saatlib.report.text.chapter2`, :mod:`~saatlib.report.text.chapter4`,
:mod:`~saatlib.report.text.chapter5`, :mod:`~saatlib.report.text.chapter6`, and what they share in
:mod:`~saatlib.report.text.common`; every builder is also a name of this package (``text.<builder>``).
"""
from saatlib.report.text.common import _plural, ranking_text, paper_claims_markdown  # noqa: F401
from saatlib.report.text.chapter2 import paper_benign_markdown  # noqa: F401
from saatlib.report.text.chapter4 import (_where, paper_ordering_markdown, table1_verdict_markdown,  # noqa: F401
                                          ablation_verdict_markdown, eps_budget_markdown, steps_markdown,
                                          prosgan_markdown, attack_summary_markdown)
from saatlib.report.text.chapter5 import (defense_verdict_markdown, masking_markdown, eps_curve_markdown,  # noqa: F401
                                          lambda_markdown, defense_summary_markdown)
from saatlib.report.text.chapter6 import (retained_markdown, benign_cost_markdown, claims_overview_markdown,  # noqa: F401
                                          reproduction_summary_markdown, paper_table_caption)
