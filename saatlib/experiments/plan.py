"""A plan before a long run: what will be trained and attacked, its forward/backward
passes, and the time it should take on this device.

:func:`plan_run` lists the stages of a Table I / Table II reproduction (per code length:
the victim's training, the encoding of its sets, every attack; per defense: its training
and its evaluation), each with the images it processes, its forward and backward passes
(one pass = one image through the network), whether the run store already holds it
(``done``), holds a checkpoint of it (``resume``) or not (``to do``), and an estimate of
its seconds from :func:`calibrate`: a few seconds of each kind of step (a training step,
an attack iteration, a no-grad forward, a PrototypeNet step) on the model of the run, at
its image size, on its device. A stage's estimate is its count of each kind of step times
that step's measured cost; stages already done cost nothing.

Passes per stage (N training images, B batch, Q queries, T iterations, E epochs, k inner
PGD steps): victim training E*floor(N/B)*B forward and backward; encoding N + N_db + Q
forward; an attack Q*T forward and backward (THA: plus its PrototypeNet steps); a
defense E*floor(N/B)*B*(k + 2) forward and backward (k inner steps, then the benign and
the adversarial batch); its evaluation, each attack's Q_d*T.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from typing import Sequence

import torch

from saatlib.attack.prototype import PrototypeNet, prototype_loss
from saatlib.attack.registry import attack_fields, build_attack, for_attack, iterative
from saatlib.checkpoint import CHECKPOINT_NAME, read_checkpoint
from saatlib.compute import Precision
from saatlib.defense.checkpoint import CHECKPOINT_FORMAT as DEFENSE_CHECKPOINT_FORMAT
from saatlib.experiments.attacks import ATTACK_KIND, attack_key, profile_sizes, stored_attack_result
from saatlib.experiments.defenses import DEFENSE_KIND, defense_config, model_key
from saatlib.experiments.hash_models import HASH_KIND, TRAIN_CHECKPOINT_FORMAT, load_data
from saatlib.hashing import build_loss
from saatlib.models import build_model
from saatlib.profiles import defense_eval_settings
from saatlib.store import RunStore

log = logging.getLogger(__name__)

#: the kinds of step :func:`calibrate` times (seconds per image, per PrototypeNet step for ``pnet``)
STEP_KINDS = ("train", "attack", "forward", "pnet")


@dataclasses.dataclass
class Stage:
    """One stage of a run.

    Attributes:
        what: e.g. ``"train DPH victim"``, ``"attack SAAT"``, ``"defend SAAT"``.
        bits: code length.
        images: images the stage processes (training items x epochs, queries x iterations...).
        forward, backward: passes through the network (one image each).
        steps: count of each kind of step (:data:`STEP_KINDS`) still to run.
        status: ``done`` (in the run store), ``resume after epoch e`` or ``to do``.
        seconds: estimated seconds still to run (0 when done; None before calibration).
    """

    what: str
    bits: int
    images: int
    forward: int
    backward: int
    steps: dict
    status: str = "to do"
    seconds: float | None = None

    @property
    def label(self) -> str:
        return f"{self.what}, {self.bits} bits"


@dataclasses.dataclass
class Plan:
    stages: list[Stage]
    calibration: dict  # step kind -> seconds, plus "device", "image_size", "backbone", "batch"
    sizes: dict        # num_train, num_database, num_query, attacked queries, defense-eval queries

    @property
    def total_seconds(self) -> float:
        return float(sum(s.seconds or 0.0 for s in self.stages))

    def estimate(self, label: str) -> float | None:
        """Estimated seconds of the stage called ``label`` (None when there is none)."""
        return next((s.seconds for s in self.stages if s.label == label), None)


@dataclasses.dataclass(frozen=True)
class SplitSizes:
    """Stand-in for :class:`saatlib.data.RetrievalSplits` where only sizes matter (a plan for data
    not on this machine): ``train``, ``database``, ``query`` are ranges of their lengths."""

    num_train: int
    num_database: int
    num_query: int
    num_classes: int
    image_shape: tuple

    @property
    def train(self) -> range:
        return range(self.num_train)

    @property
    def database(self) -> range:
        return range(self.num_database)

    @property
    def query(self) -> range:
        return range(self.num_query)


def _timed(fn, seconds: float, max_iters: int = 50) -> float:
    """Mean seconds of ``fn()`` over as many calls as fit in ``seconds`` (one warm-up call first)."""
    fn()
    n, t0 = 0, time.perf_counter()
    while n < max_iters and (n == 0 or time.perf_counter() - t0 < seconds):
        fn()
        n += 1
    return (time.perf_counter() - t0) / n


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def calibrate(backbone: str, bits: int, image_shape: Sequence[int], num_classes: int, num_train: int,
              batch_size: int = 32, device="cpu", precision=None, seconds: float = 2.0,
              widths=None, method: str = "DPH") -> dict:
    """Seconds per image of a training step (forward, backward, optimiser step, train mode), an
    attack iteration (forward and input gradient, eval mode) and a no-grad forward, and seconds
    per PrototypeNet step (batch 32 against ``num_train`` codes), each timed for about
    ``seconds`` on random weights and images of ``image_shape`` (C, H, W) on ``device``."""
    device = torch.device(device)
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(0)
        model = build_model(backbone, bits, image_shape[0], pretrained=False, widths=widths).to(device)
        net = Precision.of(precision).wrap(model)
        x = torch.rand(batch_size, *image_shape, device=device)
        y = torch.zeros(batch_size, num_classes, device=device)
        y[:, 0] = 1
        idx = torch.arange(batch_size, device=device) % max(num_train, 1)
        loss_fn = build_loss(method, max(num_train, batch_size), bits, num_classes).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=1e-6)

        def train_step():
            net.train()
            loss = loss_fn(net(x), y, idx, 0)[0]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            _sync(device)

        def attack_step():
            net.eval()
            xa = x.clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(net(xa).sum(), xa)
            _sync(device)

        @torch.no_grad()
        def forward():
            net.eval()
            net(x)
            _sync(device)

        codes = torch.randint(0, 2, (max(num_train, 1), bits), device=device).float() * 2 - 1
        code_labels = torch.zeros(max(num_train, 1), num_classes, device=device)
        code_labels[:, 0] = 1
        pnet = PrototypeNet(num_classes, bits).to(device)
        popt = torch.optim.Adam(pnet.parameters(), lr=1e-4)
        labels32 = y[:1].expand(32, -1)

        def pnet_step():
            loss = prototype_loss(pnet(labels32), labels32, codes, code_labels)
            popt.zero_grad(set_to_none=True)
            loss.backward()
            popt.step()
            _sync(device)

        out = {"train": _timed(train_step, seconds) / batch_size, "attack": _timed(attack_step, seconds) / batch_size,
               "forward": _timed(forward, seconds) / batch_size, "pnet": _timed(pnet_step, seconds)}
    out.update(device=str(device), image_size=list(image_shape), backbone=backbone, batch=batch_size,
               torch_threads=torch.get_num_threads(),
               device_name=torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU")
    return out


def _resume_epoch(path, fmt: int) -> int:
    try:
        state = read_checkpoint(path, fmt)
    except ValueError:
        return 0
    return 0 if state is None else int(state["epoch"])


def _training_stage(what, bits, n, batch, epochs, per_image: dict, done: bool, resumed: int) -> Stage:
    steps_per_epoch = n // batch
    images = epochs * steps_per_epoch * batch
    fwd_per_image = sum(per_image.values())
    left = 0 if done else (epochs - resumed) / epochs
    status = "done" if done else (f"resume after epoch {resumed}" if resumed else "to do")
    return Stage(what, bits, images, images * fwd_per_image, images * fwd_per_image,
                 {k: v * images * left for k, v in per_image.items()}, status)


def plan_run(configs: Sequence[dict], attacks: Sequence[tuple[str, str, bool]], profile: str,
             store: RunStore | None = None, defenses: Sequence[str] = (), defense_attacks: Sequence[str] = (),
             steps: int | None = None, num_queries: int | None = -1, topk: int | None = -1,
             precision=None, device="cpu", calibration: dict | None = None, calibrate_seconds: float = 2.0,
             attack_overrides: dict | None = None, defense_overrides: dict | None = None, splits=None,
             calibrate_batch: int | None = None) -> Plan:
    """The stages of reproducing Table I for each hashing config of ``configs`` (one per code
    length) with ``attacks`` (``(label, attack name, targeted)``), and Table II for ``defenses``
    evaluated under ``defense_attacks``, with ``steps``, ``num_queries``, ``topk``, ``attack_overrides``
    (parameters of the attacks that have them, e.g. ``pnet_steps``) and ``defense_overrides`` as the run
    will use them; estimated with ``calibration`` (else
    measured now by :func:`calibrate` for ``calibrate_seconds`` per kind of step). ``splits``:
    the data of ``configs[0]`` (loaded when None), or a :class:`SplitSizes` to plan for data
    that is not on this machine. ``calibrate_batch``: the batch the calibration times (default:
    the training batch, at most 32; per-image costs fall somewhat with larger batches)."""
    store = store or RunStore()
    defense_overrides = {k: v for k, v in (defense_overrides or {}).items() if v is not None}
    first = configs[0]
    splits = splits if splits is not None else load_data(first)
    n_train, n_db, n_query = len(splits.train), len(splits.database), len(splits.query)
    nq_key, topk = profile_sizes(profile, num_queries, topk)
    q = n_query if nq_key is None else min(nq_key, n_query)
    q_def = defense_eval_settings(profile, first["dataset"])["num_queries"] if num_queries == -1 else num_queries
    q_def = n_query if q_def is None else min(q_def, n_query)
    if calibration is None:
        hp = first["train"]
        calibration = calibrate(hp["backbone"], first["bits"], splits.image_shape, splits.num_classes, n_train,
                                calibrate_batch or min(hp["batch_size"], 32), device, precision, calibrate_seconds,
                                hp.get("widths"), first["method"])
    stages: list[Stage] = []
    for config in configs:  # the run trains every victim first
        hp = config["train"]
        done = store.has(HASH_KIND, config)
        resumed = 0 if done else _resume_epoch(store.path(HASH_KIND, config) / CHECKPOINT_NAME,
                                                TRAIN_CHECKPOINT_FORMAT)
        stages.append(_training_stage(f"train {config['method']} victim", config["bits"], n_train,
                                      hp["batch_size"], hp["epochs"], {"train": 1}, done, resumed))
    for config in configs:
        bits, seed = config["bits"], config["seed"]
        enc = n_train + n_db + n_query
        stages.append(Stage("encode train, database, queries", bits, enc, enc, 0, {"forward": enc}))
        if store.has("codes", {"model": config}):
            stages[-1].status, stages[-1].steps = "done", {}
        for label, name, targeted in attacks:
            kwargs = for_attack(name, attack_overrides or {})
            if iterative(name):
                attack = build_attack(name, targeted, profile, steps=steps, **kwargs)
                iters = attack.steps
                st = Stage(f"attack {label}", bits, q * iters, q * iters + 2 * q, q * iters,
                           {"attack": q * iters, "forward": 2 * q})
            else:  # generative (ProS-GAN): its training, priced as victim passes, then one pass per query
                attack = build_attack(name, targeted, profile, **kwargs)
                trained = min(n_train, attack.num_train or n_train) * (attack.epochs + attack.decay_epochs)
                st = Stage(f"attack {label}", bits, trained + q, trained + 3 * q,
                           trained, {"attack": trained, "forward": 3 * q})
            key = attack_key(config, attack, nq_key, topk, seed, precision)  # as run_attack keys it
            if "pnet_steps" in attack_fields(name):  # a PrototypeNet to train first (THA, ProS-GAN)
                st.steps["pnet"] = attack.pnet_steps
            if stored_attack_result(store, ATTACK_KIND, key) is not None:
                st.status, st.steps = "done", {}
            stages.append(st)
    for config in configs:  # then Table II, code length by code length
        bits, seed = config["bits"], config["seed"]
        for method in defenses:
            dcfg = defense_config(config, method, profile, precision, **defense_overrides)
            p = dcfg["params"]
            dentry = store.path(DEFENSE_KIND, dcfg)
            ddone = store.has(DEFENSE_KIND, dcfg)
            dres = 0 if ddone else _resume_epoch(dentry / CHECKPOINT_NAME, DEFENSE_CHECKPOINT_FORMAT)
            stages.append(_training_stage(f"defend {dcfg['method']}", bits, n_train, p["batch_size"], p["epochs"],
                                          {"attack": p["steps"], "train": 2}, ddone, dres))
            for name in defense_attacks:
                attack = build_attack(name, False, profile, steps=steps)
                key = attack_key(model_key(dcfg), attack, defense_eval_settings(profile, config["dataset"])[
                    "num_queries"] if num_queries == -1 else num_queries, topk, seed, precision)
                st = Stage(f"{dcfg['method']}-defended under {name}", bits, q_def * attack.steps,
                           q_def * attack.steps + 2 * q_def, q_def * attack.steps,
                           {"attack": q_def * attack.steps, "forward": 2 * q_def})
                if stored_attack_result(store, ATTACK_KIND, key) is not None:
                    st.status, st.steps = "done", {}
                stages.append(st)
    for st in stages:
        st.seconds = float(sum(calibration[k] * v for k, v in st.steps.items()))
    sizes = {"num_train": n_train, "num_database": n_db, "num_query": n_query, "attacked_queries": q,
             "defense_queries": q_def if defenses else None, "topk": topk}
    return Plan(stages, calibration, sizes)
