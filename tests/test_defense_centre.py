"""The centre codes SAAT and CgAT train towards (saatlib.defense.centre)."""
import torch

from saatlib.defense import centre_codes
from saatlib.dmfl import mainstay_codes


def test_centres_on_single_label_data_equal_the_mainstay_codes():
    g = torch.Generator().manual_seed(0)
    codes = torch.randint(0, 2, (60, 12), generator=g).float() * 2 - 1
    labels = torch.nn.functional.one_hot(torch.randint(0, 5, (60,), generator=g), 5).float()
    y = torch.eye(5)
    assert torch.equal(centre_codes(y, codes, labels), mainstay_codes(y, codes, labels, "cosine"))



def test_cgat_centre_is_the_sign_of_mean_similar_minus_mean_dissimilar_code():
    """CgAT's centre on multi-label data, by a loop over items. Exact ties (pos = neg) are left out:
    the released float32 sum decides them by rounding noise (``exact_ties=False``)."""
    g = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 2, (40, 10), generator=g).float() * 2 - 1
    labels = (torch.rand(40, 4, generator=g) < 0.4).float()
    queries = (torch.rand(6, 4, generator=g) < 0.4).float()
    got = centre_codes(queries, codes, labels)
    compared = 0
    for q, y in enumerate(queries):
        similar = [j for j in range(40) if any(y[c] and labels[j, c] for c in range(4))]
        other = [j for j in range(40) if j not in similar]
        for k in range(10):
            pos = sum(codes[j, k].item() for j in similar) / max(len(similar), 1)
            neg = sum(codes[j, k].item() for j in other) / max(len(other), 1)
            if abs(pos - neg) > 1e-9:
                assert got[q, k].item() == (1.0 if pos > neg else -1.0), (q, k)
                compared += 1
    assert compared > 50
