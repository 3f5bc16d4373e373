"""Runs for the public API: sample a space into a run, train it, read it back.

The CLI verbs `sample`, `run` and `train` are thin layers over these functions: every check they
make is made here, so a library caller gets the same errors (NasxError subclasses with ``where``,
``key``, ``rule`` and ``value``) for the same bad input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasx.api.spaces import load_space, measurer_for
from nasx.space import SearchSpace
from nasx.types import Scalar

if TYPE_CHECKING:
    import pandas as pd

    from nasx.execute.options import ExecOptions
    from nasx.sample.run import SampleSummary
    from nasx.store.records import TrialRecord


@dataclass(frozen=True, eq=False)
class Run:
    """A run folder: its trials as typed records (``trials``) and as a DataFrame (``frame``,
    one row per trial: values, complexity, errors, status, origin, recipe), read when asked."""

    path: Path
    space: SearchSpace | None = None  # the space it was sampled from in this process, if any
    sampling: SampleSummary | None = None  # what sample() did (None for read_run)

    @property
    def name(self) -> str:
        """The run's name (its space's), or its folder's."""
        return str(self.meta.get("name") or self.path.name)

    @cached_property
    def meta(self) -> dict[str, Any]:
        """The run's metadata as stored (space file, seed, n, the population's recipe...)."""
        from nasx.store import RunStore

        with RunStore.open(self.path, readonly=True) as store:
            return dict(store.meta())

    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial as a typed record, read now."""
        from nasx.store import RunStore

        with RunStore.open(self.path, readonly=True) as store:
            return store.trials()

    @property
    def frame(self) -> pd.DataFrame:
        """Every trial as a pandas DataFrame, read now (``nasx ls RUN --format csv`` columns)."""
        from nasx.store import RunStore

        with RunStore.open(self.path, readonly=True) as store:
            return store.dataframe()

    @property
    def counts(self) -> dict[str, int]:
        """Trials by status."""
        from nasx.store import RunStore

        with RunStore.open(self.path, readonly=True) as store:
            return store.counts()

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"


def read_run(path: str | Path | Run) -> Run:
    """The run in folder ``path``; StoreError (one line) when it is not a readable run."""
    if isinstance(path, Run):
        return path
    from nasx.store import RunStore

    with RunStore.open(path, readonly=True):  # checks it is a run, now
        pass
    return Run(Path(path))


def sample(space: str | Path | SearchSpace, n: int | None = None, seed: int | None = None,
           out: str | Path | None = None, *, progress: bool = False,
           max_attempts: int | None = None,
           overrides: Mapping[str, Scalar] | None = None) -> Run:
    """Sample ``n`` distinct architectures of ``space`` (a file, a shipped space's name or a
    loaded space) into the run folder ``out`` (default ``runs/<space name>``); the run already
    there when the same (space, n, seed) was sampled before. ``overrides``: recipe keys a later
    training will apply, checked with the space's ``train:`` block before anything is written."""
    from nasx.sample import create_run
    from nasx.sample.sampler import check_counts

    check_counts(str(space if not isinstance(space, SearchSpace) else space.path), n, seed,
                 max_attempts)
    parsed = load_space(space, overrides)
    store, summary = create_run(parsed, n=n, seed=seed, out=out, progress=progress,
                                max_attempts=max_attempts, measure=measurer_for(parsed))
    store.close()
    return Run(Path(summary.out), space=parsed, sampling=summary)


def train(run: str | Path | Run, options: ExecOptions | None = None, **kwargs: Any
          ) -> dict[str, int]:
    """Train every unfinished trial of ``run`` (resumable); returns the trials by status.

    ``options`` (an ExecOptions) or keyword arguments: ``executor`` ("inline" by default here,
    "ray"), ``address``, ``cpus_per_trial``, ``gpus_per_trial``, ``max_failures``,
    ``keep_weights``, ``retry_failed``, ``prune``, ``force_prune``, ``progress``, ``dashboard``,
    and recipe overrides (``epochs``, ``batch_size``, ``lr``, ``data``, ``data_dir``, ``device``,
    ``threads``)."""
    from nasx.store import RunStore

    opts = options if options is not None else execution_options(**kwargs)
    with RunStore.open(read_run(run).path) as store:
        if isinstance(run, Run) and run.space is not None:
            store.adopt_space(run.space)  # parsed once for sample + train
        return train_store(store, opts)


def run(space: str | Path | SearchSpace, n: int | None = None, seed: int | None = None,
        out: str | Path | None = None, options: ExecOptions | None = None,
        **kwargs: Any) -> Run:
    """Sample ``space`` (or reuse the run of the same space, n and seed) and train it: as
    :func:`sample` then :func:`train` (same keyword arguments)."""
    opts = options if options is not None else execution_options(**kwargs)
    refuse_population_pruning(opts)
    sampled = sample(space, n, seed, out, progress=opts.progress, overrides=opts.overrides)
    check_recipe_device(sampled.space, opts)
    train(sampled, opts)
    return sampled


def refuse_population_pruning(opts: ExecOptions) -> None:
    """Every trial run/demo train is sampled: refuse pruning (without force_prune) up front."""
    if opts.prune and not opts.force_prune:
        from nasx.execute.pruning import population_pruning_error

        raise population_pruning_error("its trials")


def check_recipe_device(space: SearchSpace | None, opts: ExecOptions) -> None:
    """TrainError when the recipe (the space's ``train:`` block with the overrides) asks for a
    CUDA device this machine lacks and trials run here."""
    from nasx.api.execution import check_device
    from nasx.train.recipe import space_recipe

    if space is None:
        return
    recipe = space_recipe(space, None, opts.overrides, source=str(space.path))
    overridden = "device" in opts.overrides
    check_device(recipe.device, opts.executor, opts.address,
                 source="command line" if overridden else str(space.path),
                 key="device" if overridden else "train.device")


def train_store(store: Any, opts: ExecOptions) -> dict[str, int]:
    """Train an open run's unfinished trials with ``opts`` (the Optuna pruner when asked)."""
    from nasx.execute import train_run

    if not opts.prune:
        return dict(train_run(store, opts))
    from nasx.refine.prune import train_pruning  # optuna: only when pruning

    with train_pruning(store, opts.prune) as pruner:
        return dict(train_run(store, opts, pruner=pruner))


def execution_options(**kwargs: Any) -> ExecOptions:
    """ExecOptions from keyword arguments (see :func:`train`), checked as the CLI's are."""
    from nasx.api.execution import options_from

    return options_from(**kwargs)
