"""Chapter 2's computed sentences (deep hashing): the paper's benign MAP."""
from __future__ import annotations

from saatlib.report.paper import PAPER_DATASETS, paper_value


def paper_benign_markdown(bits: int) -> str:
    """The paper's benign MAP of its victim at ``bits`` on each of its datasets (Table I, ``Original``)."""
    values = [(ds, paper_value("attacks", method="Original", dataset=ds, bits=bits)) for ds in PAPER_DATASETS]
    shown = ", ".join(f"{v:.1f} % ({ds})" for ds, v in values if v is not None)
    if not shown:
        return f"The paper's Table I has no {bits}-bit column."
    return (f"For scale: the paper's Table I reports a benign MAP of {shown} for its {bits}-bit victim, an "
            "ImageNet-pretrained AlexNet trained for 100 epochs on a GPU.")
