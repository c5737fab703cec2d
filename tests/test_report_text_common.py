"""saatlib.report.text.common: the sentences shared by the chapters (rankings, the paper's claims) say what
the numbers say."""
from saatlib.report import text, verdicts


def test_ranking_text():
    col = {"HAG": 0.30, "SDHA": 0.25, "SAAT": 0.10, "P2P": None}
    assert text.ranking_text(col, ("HAG", "SDHA", "SAAT"), True, scale=100) == "SAAT 10.0 < SDHA 25.0 < HAG 30.0"
    assert text.ranking_text(col, ("HAG", "SAAT"), False, digits=2) == "HAG 0.30 > SAAT 0.10"
    assert text.ranking_text(col, ("P2P",), False) == "–"


def test_paper_claims_text_names_the_exceptions():
    md = text.paper_claims_markdown(verdicts.paper_claims())
    assert md.startswith("Reading the paper's tables at every code length (12 cells of dataset and bits): "
                         "SAAT has the lowest MAP in every cell; SAAT-targeted has the highest t-MAP among P2P, "
                         "DHTA and THA in every cell, and with the generative ProS-GAN among the rivals in all but "
                         "NUS-WIDE 16 bits, NUS-WIDE 32 bits.")
    assert "under all three attacks in all but FLICKR-25K 16 bits, and at least twice the undefended MAP under " \
           "the SAAT attack in every cell." in md


def test_paper_claims_text_says_every_cell_when_nothing_fails():
    claims = {("X", 32): dict.fromkeys(verdicts.PAPER_CLAIM_KEYS, True)}
    md = text.paper_claims_markdown(claims)
    assert md.count("every cell") == 5 and "all but" not in md
