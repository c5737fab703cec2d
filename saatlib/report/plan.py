"""The plan of a run as text: a Markdown table of its stages (:func:`saatlib.experiments.plan.plan_run`)
with passes, status and estimated time, the total, and the machine it was calibrated on."""
from __future__ import annotations

import time

from saatlib.compute import resolve_device
from saatlib.data.transforms import REFERENCE_CROP
from saatlib.experiments.hash_models import hashing_config
from saatlib.experiments.plan import Plan, SplitSizes, plan_run
from saatlib.report.tables import TABLE1, TABLE2_ATTACKS, markdown_table
from saatlib.store import RunStore

#: the usual splits of the paper's datasets (train, database, query, labels): NUS-WIDE's 21 most
#: frequent labels, 195,834 images of which 2,100 queries; MS-COCO 122,218 images, 5,000 queries
PAPER_SPLITS = {"NUS-WIDE": (10500, 193734, 2100, 21), "MS-COCO": (10000, 117218, 5000, 80)}


def format_seconds(seconds: float | None) -> str:
    """``"–"`` for None, else ``"0 s"``, ``"42 s"``, ``"7 min 5 s"``, ``"3 h 20 min"``, ``"2 d 4 h"``."""
    if seconds is None:
        return "–"
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def _count(n: float) -> str:
    return f"{int(round(n)):,}"


def calibration_line(calibration: dict) -> str:
    """Where and how the plan's estimates were measured, in one sentence."""
    c = calibration
    size = "x".join(str(v) for v in c["image_size"][1:])
    return (f"Calibrated on {c['device_name']} ({c['device']}, {c['torch_threads']} torch threads), "
            f"{c['backbone']} at {size}, batch {c['batch']}: training step {1000 * c['train']:.2f} ms/image, "
            f"attack iteration {1000 * c['attack']:.2f} ms/image, forward {1000 * c['forward']:.3f} ms/image, "
            f"PrototypeNet step {1000 * c['pnet']:.2f} ms.")


def plan_markdown(plan: Plan, title: str | None = "Plan") -> str:
    """The plan as Markdown: title (a level-1 heading; None: none, for a page that has its own),
    sizes, the stage table, the total and the calibration sentence."""
    s = plan.sizes
    sizes = (f"{_count(s['num_train'])} training, {_count(s['num_database'])} database, "
             f"{_count(s['num_query'])} query images; {_count(s['attacked_queries'])} queries attacked"
             + (f", {_count(s['defense_queries'])} per defended model" if s.get("defense_queries") else "")
             + f"; MAP@{s['topk'] if s['topk'] is not None else 'all'}.")
    header = ["Stage", "Bits", "Images", "Forward passes", "Backward passes", "Status", "Estimate"]
    rows = [[st.what, st.bits, _count(st.images), _count(st.forward), _count(st.backward), st.status,
             format_seconds(st.seconds)] for st in plan.stages]
    todo = sum(1 for st in plan.stages if st.status != "done")
    total = (f"{len(plan.stages)} stages, {todo} to run; estimated time on this device: "
             f"{format_seconds(plan.total_seconds)}.")
    head = [] if title is None else [f"# {title}", ""]
    return "\n".join([*head, sizes, "", markdown_table(header, rows), "", total, "",
                      calibration_line(plan.calibration)]) + "\n"


class StageClock:
    """Announces each stage of a run as it starts: its number, its estimate, the time
    elapsed and the time left (the plan's estimates from this stage on, scaled by how long
    the stages so far took against their estimates).

    ``clock.start(label)`` with a stage's :attr:`~saatlib.experiments.plan.Stage.label`;
    ``say`` receives one line per stage (the CLI prints it to stderr)."""

    def __init__(self, plan: Plan | None, say):
        self.plan, self.say = plan, say
        self.labels = [st.label for st in plan.stages] if plan is not None else []
        self.t0 = time.perf_counter()

    def start(self, label: str) -> None:
        if self.say is None:
            return
        elapsed = time.perf_counter() - self.t0
        if self.plan is None or label not in self.labels:
            self.say(f"[stage] {label}; elapsed {format_seconds(elapsed)}")
            return
        k = self.labels.index(label)
        seconds = [st.seconds or 0.0 for st in self.plan.stages]
        before, left = sum(seconds[:k]), sum(seconds[k:])
        pace = elapsed / before if before > 1.0 else 1.0
        self.say(f"[stage {k + 1}/{len(self.labels)}] {label}: estimated {format_seconds(seconds[k] * pace)}; "
                 f"elapsed {format_seconds(elapsed)}, left about {format_seconds(left * pace)}")


def paper_plan(dataset: str = "NUS-WIDE", bits=(32,), defenses=("SAAT", "ATRDH"), device="auto",
               calibrate_seconds: float = 1.0, store: RunStore | None = None, calibration: dict | None = None,
               calibrate_batch: int | None = None, titled: bool = True, **overrides) -> tuple[Plan, str]:
    """The plan of ``reproduce --profile paper`` on one of the paper's datasets at its real size
    (:data:`PAPER_SPLITS`; the images need not be here), DPH + AlexNet at 224x224, Table I
    and Table II for ``defenses``, calibrated on ``device`` (``auto``: the GPU when there is
    one; ``calibration``: use these step costs instead; ``calibrate_batch``: a smaller batch
    makes the calibration quicker on a CPU). ``overrides`` go to :func:`saatlib.experiments.hash_models.hashing_config`.
    Returns (plan, its Markdown from :func:`plan_markdown`, with a title unless ``titled`` is False),
    for chapter 6's "run the paper profile" section."""
    n_train, n_db, n_query, classes = PAPER_SPLITS[dataset]
    sizes = SplitSizes(n_train, n_db, n_query, classes, (3, REFERENCE_CROP, REFERENCE_CROP))
    configs = [hashing_config(dataset, "DPH", b, "paper", pretrained=True, **overrides) for b in bits]
    attacks = [(r.name, r.attack, r.targeted) for r in TABLE1 if r.in_paper and r.attack is not None]
    plan = plan_run(configs, attacks, "paper", store or RunStore(), list(defenses), TABLE2_ATTACKS,
                    device=resolve_device(device), calibration=calibration, calibrate_seconds=calibrate_seconds,
                    splits=sizes, calibrate_batch=calibrate_batch)
    title = f"Plan: {dataset} at its real size, {', '.join(map(str, bits))} bits, profile 'paper'"
    return plan, plan_markdown(plan, title if titled else None)
