"""The training recipe: a frozen config resolved as defaults <- space ``train:`` block <- CLI.

Torch-free, so the driver, the sampler and the report can read it. Values in the space's
``train:`` block may be distributions; the sampler draws them per trial (``hparams``) and they
enter here as plain numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Literal

from nasx.errors import TrainError
from nasx.types import Scalar

if TYPE_CHECKING:
    from nasx.space import SearchSpace

Optimizer = Literal["sgd", "adamw"]
# Upper bounds of a recipe: far beyond any short-training regime, low enough that a typo (an extra
# zero or three) fails at once instead of holding a machine for days or exhausting its memory.
MAX_EPOCHS = 10_000
MAX_BATCH = 65_536
MAX_LR = 100.0
MAX_THREADS = 1024
MAX_SYNTHETIC = 200_000  # images of the synthetic data set (train or test), 4x the default
MAX_CLASSES = 100_000
MAX_SEED = 2**63 - 1
MAX_TEXT = 4096  # characters of a string value (a data folder path)
DEVICE = re.compile(r"^(auto|cpu|cuda(:[0-9]{1,3})?)$")


@dataclass(frozen=True)
class Recipe:
    """Short-training regime of the design-space papers (SGD + Nesterov, cosine, warm-up)."""

    epochs: int = 10
    batch_size: int = 128
    optimizer: Optimizer = "sgd"
    lr: float = 0.1  # for batch_size; scale yourself when changing it
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    warmup_epochs: float = 0.0
    warmup_factor: float = 0.1
    label_smoothing: float = 0.0
    data: str = "digits"  # a name of the registry nasx.data.sets (digits, ...)
    data_dir: str | None = None
    train_fraction: float = 1.0  # use a seeded subset of the training set
    val_fraction: float = 0.1  # validation images carved (stratified) from the training set
    split_seed: int = 0  # seed of the validation split: fixed for a run, not per trial
    augment: bool = True  # random crop with padding + horizontal flip (off for digits)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    amp: bool = True  # bf16 autocast on CUDA (ignored on CPU)
    channels_last: bool = True  # on CUDA
    eval_every: int = 1  # validate every k epochs and at the last (the test set: at the end)
    threads: int = 0  # torch CPU threads per trial; 0 = $NASX_THREADS, $OMP_NUM_THREADS or min(4, cores)
    compile: bool = False  # torch.compile the model (CUDA only)
    # deterministic kernels, no cuDNN autotuning (CUDA: slower, see README); same seed, same run
    deterministic: bool = False
    synthetic_train: int = 50000  # images in the synthetic training set (data: synthetic)
    synthetic_test: int = 10000  # images in the synthetic test set
    synthetic_classes: int = 10  # classes of the synthetic data set

    def to_dict(self) -> dict[str, Scalar]:
        """Flat key -> scalar dict (stored with every trial, sent to a Ray worker)."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> set[str]:
        """Names a ``train:`` block or an override may set."""
        return {f.name for f in fields(cls)}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Recipe:
        """Inverse of :meth:`to_dict` (validated)."""
        return cls().override(d, source="recipe")

    def override(self, updates: Mapping[str, object], *, source: str = "train") -> Recipe:
        """A copy with ``updates`` applied; unknown keys and bad values raise TrainError.

        ``updates`` come from YAML, JSON or the command line: any value, checked here.
        """
        known = {f.name: f for f in fields(self)}
        clean: dict[str, object] = {}
        for key, value in updates.items():
            if value is None and key != "data_dir":
                continue
            if key not in known:
                raise TrainError(
                    f"unknown recipe key (known: {', '.join(sorted(known))})", where=source, key=key
                )
            default = getattr(Recipe(), key)
            # Strict types: "8" is not 8 and true is not 1 (a quoted number is a typo to report).
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if isinstance(value, float) and not math.isfinite(value):
                rule = "must be a finite number"
            elif isinstance(default, bool):
                rule = "" if isinstance(value, bool) else "must be true or false"
            elif isinstance(default, int):
                integral = number and (isinstance(value, int) or value.is_integer())
                rule = "" if integral else "must be an integer"
                value = int(value) if integral else value
            elif isinstance(default, float):
                rule = ("must be a number" if not number
                        else "" if abs(value) <= 1e300 else "must be a finite number")
                value = float(value) if not rule else value
            else:  # str, or None for data_dir
                ok = isinstance(value, str) or (value is None and key == "data_dir")
                rule = "" if ok else "must be a string"
                if isinstance(value, str) and len(value) > MAX_TEXT:
                    rule = f"must have at most {MAX_TEXT} characters"
            if rule:
                raise TrainError(rule=rule, value=value, where=source, key=key)
            clean[key] = value
        out = replace(self, **clean)
        out.validate(source)
        return out

    def validate(self, source: str = "train") -> None:
        """Check ranges; TrainError naming the key otherwise."""
        from nasx.data.sets import names  # the registry of data sets (numpy, not torch)

        for f in fields(self):  # a Recipe built directly skips override's type checks
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise TrainError(rule="must be a finite number", value=value, where=source,
                                 key=f.name)
        rules = [
            ("epochs", 1 <= self.epochs <= MAX_EPOCHS, f"must be in [1, {MAX_EPOCHS}]"),
            ("batch_size", 1 <= self.batch_size <= MAX_BATCH, f"must be in [1, {MAX_BATCH}]"),
            ("lr", 0 < self.lr <= MAX_LR, f"must be in (0, {MAX_LR:g}]"),
            ("weight_decay", 0 <= self.weight_decay <= 1, "must be in [0, 1]"),
            ("warmup_factor", 0 < self.warmup_factor <= 1, "must be in (0, 1]"),
            ("momentum", 0 <= self.momentum < 1, "must be in [0, 1)"),
            ("warmup_epochs", 0 <= self.warmup_epochs <= self.epochs, "must be in [0, epochs]"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "must be in [0, 1)"),
            ("train_fraction", 0 < self.train_fraction <= 1, "must be in (0, 1]"),
            ("val_fraction", 0 < self.val_fraction <= 0.5, "must be in (0, 0.5]"),
            ("split_seed", 0 <= self.split_seed <= MAX_SEED, "must be in [0, 2**63 - 1]"),
            ("optimizer", self.optimizer in ("sgd", "adamw"), "must be sgd or adamw"),
            ("data", isinstance(self.data, str) and self.data in names(),
             f"must be {_one_of(names())}"),
            ("device", DEVICE.match(self.device) is not None, "must be auto, cpu, cuda or cuda:N"),
            ("eval_every", 1 <= self.eval_every <= MAX_EPOCHS, f"must be in [1, {MAX_EPOCHS}]"),
            ("threads", 0 <= self.threads <= MAX_THREADS, f"must be in [0, {MAX_THREADS}]"),
            ("synthetic_train", 1 <= self.synthetic_train <= MAX_SYNTHETIC,
             f"must be in [1, {MAX_SYNTHETIC}]"),
            ("synthetic_test", 1 <= self.synthetic_test <= MAX_SYNTHETIC,
             f"must be in [1, {MAX_SYNTHETIC}]"),
            ("synthetic_classes", 2 <= self.synthetic_classes <= MAX_CLASSES,
             f"must be in [2, {MAX_CLASSES}]"),
        ]
        for key, ok, rule in rules:
            if not ok:
                raise TrainError(rule=rule, value=getattr(self, key), where=source,
                                 key=key)


def _one_of(names: Iterable[str]) -> str:
    """``a, b or c``."""
    *head, last = names
    return f"{', '.join(head)} or {last}" if head else last


def resolve_recipe(
    train_block: Mapping[str, Scalar] | None,
    hparams: Mapping[str, Scalar] | None,
    overrides: Mapping[str, Scalar] | None,
    *,
    source: str = "train",
) -> Recipe:
    """defaults <- fixed values of the space's train: block <- sampled hparams <- CLI overrides.

    ``train_block`` holds only the fixed (non-distribution) entries; ``hparams`` the per-trial draws.
    """
    recipe = Recipe()
    recipe = recipe.override(dict(train_block or {}), source=source)
    recipe = recipe.override(dict(hparams or {}), source=source)
    return recipe.override(dict(overrides or {}), source="command line")


def space_recipe(space: SearchSpace, hparams: Mapping[str, Scalar] | None,
                 overrides: Mapping[str, Scalar] | None, *, source: str) -> Recipe:
    """:func:`resolve_recipe` of ``space``'s ``train:`` block: each distinct (hparams, overrides)
    resolved and validated once per parsed space (a command parses its space once)."""
    try:
        key = ("recipe", tuple(sorted((hparams or {}).items())),
               tuple(sorted((overrides or {}).items())))
        found = space.memo.get(key)
    except TypeError:  # an unhashable value or a non-str key (from a notebook): the recipe says why
        return resolve_recipe(space.train_fixed, hparams, overrides, source=source)
    if not isinstance(found, Recipe):  # a failure is not kept: it raises again, from the caller
        found = space.memo[key] = resolve_recipe(space.train_fixed, hparams, overrides,
                                                 source=source)
    return found
