"""The training recipe: a frozen config resolved as defaults <- space ``train:`` block <- CLI.

Torch-free, so the driver, the sampler and the report can read it. Values in the space's
``train:`` block may be distributions; the sampler draws them per trial (``hparams``) and they
enter here as plain numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from nasx.errors import TrainError

Optimizer = Literal["sgd", "adamw"]


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
    data: str = "digits"  # digits | cifar10 | imagefolder | synthetic
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
    synthetic_train: int = 50000  # images in the synthetic training set (data: synthetic)
    synthetic_test: int = 10000  # images in the synthetic test set
    synthetic_classes: int = 10  # classes of the synthetic data set

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (stored with every trial)."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> set[str]:
        """Names a ``train:`` block or an override may set."""
        return {f.name for f in fields(cls)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Recipe:
        """Inverse of :meth:`to_dict` (validated)."""
        return cls().override(d, source="recipe")

    def override(self, updates: dict[str, Any], *, source: str = "train") -> Recipe:
        """A copy with ``updates`` applied; unknown keys and bad values raise TrainError."""
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in updates.items():
            if value is None and key != "data_dir":
                continue
            if key not in known:
                raise TrainError(
                    f"unknown recipe key (known: {', '.join(sorted(known))})", file=source, key=key
                )
            default = getattr(Recipe(), key)
            try:
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise ValueError("must be true or false")
                    clean[key] = value
                elif isinstance(default, int):
                    if isinstance(value, bool) or int(value) != float(value):
                        raise ValueError("must be an integer")
                    clean[key] = int(value)
                elif isinstance(default, float):
                    clean[key] = float(value)
                else:
                    clean[key] = None if value is None else str(value)
            except (TypeError, ValueError) as exc:
                raise TrainError(f"{exc}; got {value!r}", file=source, key=key) from None
        out = replace(self, **clean)
        out.validate(source)
        return out

    def validate(self, source: str = "train") -> None:
        """Check ranges; TrainError naming the key otherwise."""
        rules = [
            ("epochs", self.epochs >= 1, "must be >= 1"),
            ("batch_size", self.batch_size >= 1, "must be >= 1"),
            ("lr", self.lr > 0, "must be > 0"),
            ("weight_decay", self.weight_decay >= 0, "must be >= 0"),
            ("momentum", 0 <= self.momentum < 1, "must be in [0, 1)"),
            ("warmup_epochs", 0 <= self.warmup_epochs <= self.epochs, "must be in [0, epochs]"),
            ("label_smoothing", 0 <= self.label_smoothing < 1, "must be in [0, 1)"),
            ("train_fraction", 0 < self.train_fraction <= 1, "must be in (0, 1]"),
            ("val_fraction", 0 < self.val_fraction <= 0.5, "must be in (0, 0.5]"),
            ("split_seed", self.split_seed >= 0, "must be >= 0"),
            ("optimizer", self.optimizer in ("sgd", "adamw"), "must be sgd or adamw"),
            ("data", self.data in ("digits", "cifar10", "imagefolder", "synthetic"),
             "must be digits, cifar10, imagefolder or synthetic"),
            ("eval_every", self.eval_every >= 1, "must be >= 1"),
            ("threads", self.threads >= 0, "must be >= 0"),
            ("synthetic_train", self.synthetic_train >= 1, "must be >= 1"),
            ("synthetic_test", self.synthetic_test >= 1, "must be >= 1"),
            ("synthetic_classes", self.synthetic_classes >= 2, "must be >= 2"),
        ]
        for key, ok, rule in rules:
            if not ok:
                raise TrainError(f"{rule}; got {getattr(self, key)!r}", file=source, key=key)


def resolve_recipe(
    train_block: dict[str, Any] | None,
    hparams: dict[str, Any] | None,
    overrides: dict[str, Any] | None,
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
