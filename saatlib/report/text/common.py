"""What the chapters' sentences share: plurals, a ranking as text, the paper's own claims."""
from __future__ import annotations

from typing import Mapping, Sequence

from saatlib.report.verdicts import paper_exceptions, ranking


def _plural(n: int, word: str) -> str:
    """``"1 epoch"``, ``"2 epochs"``."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def ranking_text(values: Mapping[str, float | None], names: Sequence[str], lower_is_better: bool,
                 scale: float = 1.0, digits: int = 1) -> str:
    """The attacks ranked strongest first, as text: ``"SAAT 10.2 < SDHA 25.0 < HAG 30.0"``.

    Values are multiplied by ``scale`` (100: fractions shown in %) and joined
    with ``<`` (MAP, ``lower_is_better``) or ``>`` (t-MAP); equal values keep
    the order of ``names``. Missing values are left out; ``"–"`` when none is left.
    """
    order = ranking(values, names, lower_is_better)
    sep = " < " if lower_is_better else " > "
    return sep.join(f"{n} {values[n] * scale:.{digits}f}" for n in order) or "–"


def paper_claims_markdown(claims: Mapping[tuple[str, int], Mapping[str, bool | None]]) -> str:
    """One paragraph: where, over every dataset and code length, the paper's own tables bear out its claims."""
    exceptions = paper_exceptions(claims)

    def where(key: str) -> str:
        return "every cell" if not exceptions[key] else "all but " + ", ".join(exceptions[key])

    return (f"Reading the paper's tables at every code length ({len(claims)} cells of dataset and bits): "
            f"SAAT has the lowest MAP in {where('saat_lowest_map')}; SAAT-targeted has the highest "
            f"t-MAP among P2P, DHTA and THA in {where('saat_highest_tmap')}, and with the generative "
            f"ProS-GAN among the rivals in {where('saat_highest_tmap_with_prosgan')}. The SAAT-trained "
            f"model is above the ATRDH-trained one under all three attacks in {where('saat_beats_atrdh')}, "
            f"and at least twice the undefended MAP under the SAAT attack in {where('saat_doubles_none')}.")
