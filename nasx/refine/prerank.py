"""``nasx refine --prerank PROXY --oversample K``: train only the suggestions a cheap proxy likes.

Each round asks K times as many feasible, new suggestions as it will train, scores each at its
seeded initialisation (the trial's own seed and recipe, so the score is the one ``nasx proxies``
would store for it) with PROXY, any name of ``nasx.proxies.PROXIES`` or the exact ``params`` /
``flops`` (higher predicts a lower error, as every proxy of nasx), and trains the ``batch`` best
(ties: the earlier suggestion). Refine trials only: the EDF population is sampled, never ranked.

What Optuna is told about the untrained ones: nothing it could learn from. Each is told FAIL
with the user attrs ``nasx_prerank_skipped`` (its proxy value) and ``nasx_prerank_round``. A
FAIL trial is ignored by every Optuna sampler, so the sampler learns only from errors that were
measured by training; telling it the proxy as if it were an error (another unit, a weak
correlate: most proxies barely beat params) or a penalty (a false "bad" for a region the proxy
merely ranked second) would teach it values nobody measured. The price: a point skipped this
round may be suggested again later, and is then ranked again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nasx.errors import RefineError
from nasx.store import NewTrial, RunStore

if TYPE_CHECKING:
    import optuna

BASELINES = ("params", "flops")  # exact complexity, free to rank by


def known_proxies() -> tuple[str, ...]:
    """Every name --prerank accepts (the proxies import torch: only when asked for)."""
    from nasx.proxies import PROXIES

    return (*PROXIES, *BASELINES)


def check_prerank(proxy: str | None, oversample: int) -> None:
    """RefineError naming --prerank or --oversample when they are wrong or given alone."""
    if proxy is None:
        if oversample != 1:
            raise RefineError(rule="needs --prerank PROXY", value=oversample,
                              shown=f"--oversample {oversample}", where="command line",
                              key="oversample")
        return
    names = known_proxies()
    if proxy not in names:
        raise RefineError(rule=f"must be one of {', '.join(names)}", value=proxy,
                          where="command line", key="prerank")
    if oversample < 2:
        raise RefineError(rule="must be >= 2 with --prerank (K suggestions per trained trial)",
                          value=oversample, where="command line", key="oversample")


@dataclass(frozen=True)
class Pick:
    """A feasible, new suggestion: its Optuna trial, the trial to store, what its measured
    constraints measured."""

    trial: optuna.trial.Trial
    nt: NewTrial
    measured: Mapping[str, Any]  # measured constraint key -> measurement (Verdict.measured)


@dataclass
class Prerank:
    """Scores one round's suggestions with ``proxy`` and keeps the best."""

    proxy: str
    store: RunStore
    overrides: dict[str, Any]  # the command line's recipe overrides, as the driver applies them
    threads: int = 1  # one minibatch of a small model: one thread is fastest
    _cache: Any = None  # the data cache of nasx.proxies (loaded once per call)

    def score(self, nt: NewTrial) -> float:
        """PROXY of one suggestion at its seeded initialisation (NaN scores last)."""
        if self.proxy in BASELINES:
            return float(getattr(nt, self.proxy))
        import torch

        from nasx.data.base import DataCache
        from nasx.proxies import proxies_of
        from nasx.train.recipe import space_recipe

        if self._cache is None:
            self._cache = DataCache()
        recipe = space_recipe(self.store.space(), nt.hparams, self.overrides,
                              source=str(self.store.space_path))
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)  # process-wide: restored below
        try:
            value = proxies_of(nt.spec, recipe, nt.seed, names=[self.proxy],
                               cache=self._cache)[self.proxy]
        finally:
            torch.set_num_threads(before)
        return value if value == value else float("-inf")  # NaN: never preferred

    def choose(self, trials: Sequence[NewTrial], keep: int) -> tuple[list[int], list[float]]:
        """(indices of the ``keep`` best of ``trials`` by the proxy, in asking order; every
        score)."""
        scores = [self.score(nt) for nt in trials]
        order = sorted(range(len(trials)), key=lambda i: (-scores[i], i))
        return sorted(order[:keep]), scores

    def rank(self, study: optuna.Study, picks: list[Pick], want: int, known: dict[str, int]
             ) -> tuple[list[Pick], dict[int, float]]:
        """The ``want`` best of one round's ``picks`` (and every score by Optuna trial number);
        the others are told FAIL and released from ``known`` (not in the run: a later
        suggestion of the same network may train it)."""
        from optuna.trial import TrialState

        keep, scores = self.choose([p.nt for p in picks], want)
        first = picks[0].trial.number  # names the round: the same attr on all its trials
        for i, p in enumerate(picks):
            p.trial.set_user_attr("nasx_prerank_round", first)
            p.trial.set_user_attr(f"nasx_prerank_{self.proxy}", scores[i])
            if i not in keep:
                p.trial.set_user_attr("nasx_prerank_skipped", scores[i])
                study.tell(p.trial, state=TrialState.FAIL)
                del known[p.nt.fingerprint]
        return [picks[i] for i in keep], {p.trial.number: scores[i] for i, p in enumerate(picks)}

    def record(self, ids: Sequence[int], scores: Sequence[float]) -> None:
        """The trained trials' proxy values into the run's proxies table."""
        from nasx.store.proxies import ensure_table, put_proxies

        ensure_table(self.store)
        for i, score in zip(ids, scores, strict=True):
            put_proxies(self.store, i, {self.proxy: score})
