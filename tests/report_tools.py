"""Helpers of the report tests: hand-made attack results (Table I) and a judged comparison of hand-made
per-query differences."""
from saatlib.report import comparisons, rule


def comparison(key, claim, diffs, dataset="fm", target=0.02):
    return comparisons.Comparison(key, claim, dataset, rule.judge(diffs, target))


def attack_result(adv, benign=0.8, tbenign=None):
    """An attack result as :func:`saatlib.experiments.attacks.run_attack` returns it, its MAPs only."""
    r = {"map_adversarial": adv, "map_benign": benign}
    if tbenign is not None:
        r["tmap_benign"] = tbenign
    return r


#: hand-made Table I results, ``{(attack, targeted): result}``: SAAT lowest MAP, SAAT-targeted highest t-MAP
RESULTS = {("HAG", False): attack_result(0.30, 0.81), ("SDHA", False): attack_result(0.25, 0.81),
           ("SAAT", False): attack_result(0.10, 0.80), ("P2P", True): attack_result(0.60, 0.80, 0.05),
           ("DHTA", True): attack_result(0.65, 0.80, 0.05), ("THA", True): attack_result(0.55, 0.80, 0.05),
           ("SAAT", True): attack_result(0.70, 0.80, 0.04), ("ProS-GAN", True): attack_result(0.20, 0.80, 0.05)}
