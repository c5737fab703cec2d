"""No result number typed by hand into the book's prose.

Every number a sentence states about a result comes from a value the build
recorded: chapters write such sentences in code cells (``saatlib.report.text``).
This test reads every Markdown cell of every chapter (and ``book/intro.md``),
drops math (``$...$``), code spans and code blocks, and flags the numbers that
look like results: decimals, percentages, numbers with thousands separators and
numbers in Markdown tables. The few settings and facts that are not results are
listed in :data:`SETTINGS` with why they may stay.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from saatlib.chapters.runner import toc_notebooks

ROOT = Path(__file__).resolve().parent.parent

#: numbers in prose that are settings or facts, not results of a build: token -> why it may stay
SETTINGS = {
    "70,000": "Fashion-MNIST's size (a fact of the data set)",
    "10,000": "the default profile's database size (a setting)",
    "0.1": "chance level of ten balanced classes (arithmetic, chapter 1); the tanh scale's start (a setting)",
    "0.5": "the ideal share of +1 per bit and the precision@10 threshold of an exercise (definitions)",
    "0.01": "the paper profile's learning rate (a setting)",
    "0.60": "an illustration of units (0.60 against 60 %), not a measurement",
    "60%": "the same illustration",
    "2,100": "NUS-WIDE's usual number of queries (a fact of the data set)",
    "10.1109": "the paper's DOI",
}

_MATH_BLOCK = re.compile(r"\$\$.*?\$\$", re.S)
_MATH = re.compile(r"\$[^$]*\$")
_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\]\([^)]*\)")
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+\.\d+|\d+(?:\.\d+)?\s?%)")
_TABLE_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def prose(text: str) -> str:
    """``text`` without math, code and link targets."""
    for pattern in (_MATH_BLOCK, _CODE_BLOCK, _MATH, _CODE, _LINK):
        text = pattern.sub(" ", text)
    return text


def result_numbers(text: str) -> list[str]:
    """The numbers of ``text``'s prose that look like results (see the module docstring), allowed ones dropped."""
    body = prose(text)
    found = [m.group(1).replace(" ", "") for m in _NUMBER.finditer(body)]
    for line in body.splitlines():
        if line.lstrip().startswith("|") and not set(line.strip()) <= set("|-: "):
            found += _TABLE_NUMBER.findall(line)
    return [n for n in found if n not in SETTINGS]


def sources() -> list[tuple[str, str]]:
    out = [("book/intro.md", (ROOT / "book" / "intro.md").read_text(encoding="utf-8"))]
    for path in toc_notebooks():
        nb = nbformat.read(path, as_version=4)
        out += [(f"{path.name} cell {i}", c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    return out


@pytest.mark.parametrize("where,text", sources(), ids=lambda v: v if isinstance(v, str) and "cell" in v else None)
def test_no_result_number_typed_into_prose(where, text):
    assert result_numbers(text) == [], f"{where}: numbers typed by hand; write them from recorded values"


def test_the_scanner_finds_what_it_should():
    assert result_numbers("SAAT reaches 39.10 against 39.12 (41%).") == ["39.10", "39.12", "41%"]
    assert result_numbers("| one H200 | fp32 |\n|---|---|\n| SAAT attack | 244 |") == ["244"]
    assert result_numbers("the budget $\\epsilon = 8/255$, `lr = 0.01` and 100 iterations") == []
    assert result_numbers("1,500 iterations; 70,000 images") == ["1,500"]
