"""saatlib: Semantic-Aware Adversarial Training (SAAT) for deep hashing retrieval.

The library behind the SAAT book (Yuan et al., "Semantic-Aware Adversarial
Training for Reliable Deep Hashing Retrieval", IEEE TIFS 18 (2023) 4681-4694).

Stages, one subpackage or module each (layers and import directions: ARCHITECTURE.md):

- :mod:`saatlib.primitives` sign with sign(0) = +1, relevance, eval mode, l_inf projection, budget checks
- :mod:`saatlib.data`      datasets (Fashion-MNIST, mosaics, list files) and the retrieval protocol
- :mod:`saatlib.models`    hash models: backbone + linear hash layer + tanh(a * .)
- :mod:`saatlib.hashing`   deep hashing losses (DPH, DPSH, HashNet, CSQ), training, encoding
- :mod:`saatlib.dmfl`      mainstay codes (DMFL; CgAT's centre is its equal-weight case)
- :mod:`saatlib.attack`    SAAT's attack and the baselines (HAG, SDHA, P2P, DHTA, THA), update rules, the check attack
- :mod:`saatlib.defense`   adversarial training: SAAT, ATRDH, CgAT
- :mod:`saatlib.metrics`   Hamming distance, MAP (stable and tie-aware), PR curves, precision@N
- :mod:`saatlib.store`     run store: cache of trained models and results keyed by config
- :mod:`saatlib.profiles`  named presets (smoke, default, paper)
- :mod:`saatlib.report`    the paper's numbers, Table I / II beside ours, verdicts and sentences
- :mod:`saatlib.plots`     figures for the book
- :mod:`saatlib.experiments` load-or-compute: every cached model, code, score and attack run
- :mod:`saatlib.widgets`   the book's explorers (ipywidgets, answering on the static pages)
- :mod:`saatlib.chapters`  what the chapters call: set-up, recorded numbers, the papermill runner
- :mod:`saatlib.cli`       ``python -m saatlib ...``
"""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
