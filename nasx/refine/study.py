"""``refine``: an Optuna study over a run's space, warm-started from its trained population.

Design choice: refine drives a plain Optuna study with ask/tell over ``nasx.execute.train_run``
rather than Ray Tune's OptunaSearch. Each round asks K suggestions, decodes them, checks the
space's constraints BEFORE training, adds the feasible ones to the run store (origin ``refine``)
and trains exactly those ids with the same executors (inline or Ray), then tells Optuna the
results. So the store stays the single source of truth, ``nasx train``'s resume and fault
tolerance apply unchanged, and the study is an ordinary Optuna study that Optuna's own tools
(``optuna trials``, ``optuna studies``, the dashboard) read.

Warm start: every finished (``done``) trial of the run that the study does not hold yet is added
once with ``optuna.trial.create_trial`` (same distributions, its per-epoch test errors as
intermediate values); the user attr ``nasx_id`` remembers the store id, so a second call adds
nothing twice. Trials a pruner stopped early are not added (not full-budget errors).

Infeasible suggestions are never trained nor stored: each is told COMPLETE with a penalty
(error 100%, its measured complexity, or 1e15 when it gives no network) AND an Optuna constraint
``nasx_violation`` > 0 (``Trial.set_constraint``; Optuna 5 replaces ``constraints_func`` by it).
Constraint-aware samplers (TPE, NSGA-II) rank them below every feasible trial and learn to avoid
the region; ``best_trial``/``best_trials`` only consider feasible ones. Every feasible and
warm-started trial carries ``nasx_violation = 0``.

Measured objectives (``latency_ms``, ``memory_mb``) are measured for each feasible suggestion
before it trains (:mod:`nasx.refine.cost`); ``--prerank`` trains only the suggestions a proxy
ranks best (:mod:`nasx.refine.prerank`, which says what Optuna is told about the others).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
from optuna.trial import TrialState

from nasx.errors import RefineError
from nasx.execute.driver import driver_lock
from nasx.execute.executors import executor_session
from nasx.execute.options import ExecOptions
from nasx.execute.plan import RecipeChoice, choose_recipe
from nasx.refine.cost import Costs
from nasx.refine.feasible import Feasibility
from nasx.refine.options import RefineOptions, RefineSummary
from nasx.refine.optuna_space import (
    check_sampler,
    distributions,
    param_name,
    sampler,
    to_param,
    to_value,
)
from nasx.refine.prerank import Pick, Prerank
from nasx.refine.prune import StudyPruner, make_pruner
from nasx.refine.slots import Slot, assemble, slot_value, space_slots
from nasx.space import SearchSpace, load_space
from nasx.store import RunStore, TrialRecord, TrialStatus, is_finished
from nasx.train import population
from nasx.types import Scalar

PENALTY_ERROR = 100.0  # percent: worse than any trained model
PENALTY_SIZE = 1e15  # complexity of a suggestion that gives no network
CONSTRAINT = "nasx_violation"


def _objective_values(rec: TrialRecord, objectives: Sequence[str],
                      measured: Mapping[str, float] | None = None) -> list[float]:
    """The trial's objective values; ``measured``: its latency_ms / memory_mb figures."""
    table = {"error": rec.error, "flops": rec.flops, "params": rec.params, "acts": rec.acts,
             **(measured or {})}
    return [float(table[o]) for o in objectives]  # type: ignore[arg-type]


def _penalty(quantities: dict[str, float], objectives: Sequence[str]) -> list[float]:
    return [PENALTY_ERROR if o == "error" else quantities.get(o, PENALTY_SIZE) for o in objectives]


def _curve(rec: TrialRecord) -> dict[int, float]:
    """Per-epoch validation errors of a stored trial (intermediate values for pruners)."""
    out = {}
    for row in rec.curves or []:
        # Curves stored before the validation split carry only test_error.
        error = row.get("val_error", row.get("test_error"))
        if error is not None and row.get("epoch") is not None:
            out[int(row["epoch"])] = float(error)
    return out


def _open_study(opts: RefineOptions, name: str, storage: str, space: SearchSpace,
                run: Path) -> optuna.Study:
    directions = ["minimize"] * len(opts.objectives)
    try:
        study = optuna.create_study(storage=storage, study_name=name, directions=directions,
                                    load_if_exists=True)
    except Exception as exc:  # bad URL, missing driver, unreachable server: the user's input
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise RefineError(f"cannot open the Optuna storage ({type(exc).__name__}: {first})",
                          where="command line", key="storage") from None
    if len(study.directions) != len(directions):
        raise RefineError(f"study '{name}' exists with {len(study.directions)} objective(s); "
                          f"asked for {','.join(opts.objectives)}", where="command line",
                          key="study")
    sha = study.user_attrs.get("nasx_space_sha256")
    if sha is not None and sha != space.sha256:
        owner = study.user_attrs.get("nasx_run")
        raise RefineError(f"study '{name}' belongs to another space (run {owner})",
                          where="command line", key="study")
    if sha is None:
        study.set_user_attr("nasx_space_sha256", space.sha256)
        study.set_user_attr("nasx_run", str(run.resolve()))
        study.set_user_attr("nasx_objectives", list(opts.objectives))
    return study


def _warm_start(study: optuna.Study, store: RunStore, slots: list[Slot], objectives: Sequence[str],
                summary: RefineSummary, recipe: dict[str, Scalar], costs: Costs) -> None:
    dists = distributions(slots)
    present = {t.user_attrs.get("nasx_id") for t in study.get_trials(deepcopy=False)}
    frozen = []
    stored = costs.stored()
    # every origin, trials a pruner stopped left out (not full-budget errors)
    finished = store.finished(origins=None, recipe=recipe)
    summary.warm_other_recipe += len(finished.other_recipe)  # their errors measure another thing
    for rec in finished.trials:
        if rec.id in present:
            summary.warm_present += 1
            continue
        params = {param_name(s): to_param(s, slot_value(s, rec.values, rec.hparams)) for s in slots}
        if any(v is None for v in params.values()):
            summary.warm_skipped += 1
            continue
        frozen.append(optuna.trial.create_trial(
            params=params, distributions=dists,
            values=_objective_values(rec, objectives, costs.warm(rec.id, rec.spec, stored)),
            intermediate_values=_curve(rec), constraints={CONSTRAINT: 0.0},
            user_attrs={"nasx_id": rec.id, "nasx_origin": rec.origin.value, "nasx_warm_start": True},
        ))
    study.add_trials(frozen)
    summary.warm_started = len(frozen)


def _tell_from_store(study: optuna.Study, trial: optuna.trial.Trial | int, rec: TrialRecord,
                     objectives: Sequence[str], costs: Costs) -> str:
    """Tell Optuna how a stored trial ended; returns done | failed | pruned."""
    if rec.status is TrialStatus.PRUNED or (is_finished(rec) and rec.stopped_early):
        study.tell(trial, state=TrialState.PRUNED)  # (stopped_early: a run of nasx < 0.3)
        return TrialStatus.PRUNED
    if is_finished(rec):
        study.tell(trial, _objective_values(rec, objectives, costs.figures(rec.spec)))
        return TrialStatus.DONE
    study.tell(trial, state=TrialState.FAIL)
    return TrialStatus.FAILED


def _count(summary: RefineSummary, outcome: str) -> None:
    setattr(summary, outcome, getattr(summary, outcome) + 1)


def _train(store: RunStore, exec_opts: ExecOptions, ids: list[int],
           pruner: StudyPruner | None) -> None:
    """Train ``ids`` through train_run, each validated epoch reported to ``pruner``."""
    from nasx.execute import train_run

    train_run(store, exec_opts, trial_ids=ids, locked=True, pruner=pruner)


def _resume(study: optuna.Study, store: RunStore, exec_opts: ExecOptions,
            opts: RefineOptions, summary: RefineSummary, costs: Costs) -> None:
    """Finish Optuna trials an interrupted call left RUNNING (train their store trials first).

    A store trial the killed call had not finished is trained again under the same Optuna
    trial (and the same pruner); one it finished is only told. Either way the study and the
    store agree afterwards.
    """
    stale = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    owned = {t.number: t.user_attrs.get("nasx_id") for t in stale}
    todo = {t.user_attrs["nasx_id"]: t for t in stale if t.user_attrs.get("nasx_id") is not None
            and store.get(t.user_attrs["nasx_id"]).status not in TrialStatus.final()}
    if todo:
        pruner = None
        if opts.prune:
            pruner = StudyPruner(opts.prune,
                                 {i: optuna.trial.Trial(study, t._trial_id) for i, t in todo.items()},
                                 {i: t.intermediate_values for i, t in todo.items()})
        _train(store, exec_opts, sorted(todo), pruner)
    for number, nasx_id in owned.items():
        if nasx_id is None:
            study.tell(number, state=TrialState.FAIL)
            continue
        rec = store.get(nasx_id)
        # the killed call may have stopped before recording the figure: measured now if so
        costs.values_of(nasx_id, rec.spec, costs.stored(), " (at refine, on resume)")
        outcome = _tell_from_store(study, number, rec, opts.objectives, costs)
        summary.resumed_outcomes[outcome] = summary.resumed_outcomes.get(outcome, 0) + 1
        summary.resumed += 1


def _trial_seed(run_seed: int, seed: int, number: int) -> int:
    return int(np.random.SeedSequence([run_seed, seed, number]).generate_state(1)[0] >> 1)


@dataclass
class _Asking:
    """What every round of suggestions works with (one refine call)."""

    study: optuna.Study
    space: SearchSpace
    slots: list[Slot]
    store: RunStore
    opts: RefineOptions
    summary: RefineSummary
    run_seed: int
    budget: int  # suggestions at most, feasible or not
    known: dict[str, int]  # fingerprint -> store id (-1: taken by the round being asked)
    costs: Costs
    feasible: Feasibility  # the space's acceptance check (measures each architecture once)


def _ask_round(a: _Asking, want: int) -> list[Pick]:
    """Ask until ``want`` feasible, new suggestions (or the budget) and tell the rest at once."""
    study, space, slots, store, opts, summary = (a.study, a.space, a.slots, a.store, a.opts,
                                                 a.summary)
    run_seed, budget, known = a.run_seed, a.budget, a.known
    dists = distributions(slots)
    chosen: list[Pick] = []
    while len(chosen) < want and summary.suggestions < budget:
        trial = study.ask(dists)
        summary.suggestions += 1
        drawn = {s.name: to_value(s, trial.params[param_name(s)]) for s in slots}
        values, hparams = assemble(space, drawn)
        trial.set_user_attr("nasx_values", values)
        if hparams:
            trial.set_user_attr("nasx_hparams", hparams)
        verdict = a.feasible.check(values, hparams, _trial_seed(run_seed, opts.seed, trial.number))
        if not verdict.feasible:
            trial.set_constraint(CONSTRAINT, max(verdict.violation, 1e-9))
            trial.set_user_attr("nasx_infeasible", verdict.reason[:500])
            study.tell(trial, _penalty(verdict.quantities, opts.objectives))
            summary.infeasible += 1
            continue
        trial.set_constraint(CONSTRAINT, 0.0)
        nt = verdict.trial
        assert nt is not None  # a feasible verdict carries its trial
        if nt.fingerprint in known:  # the same network (and hparams) is already in the run
            other = store.get(known[nt.fingerprint]) if known[nt.fingerprint] >= 0 else None
            trial.set_user_attr("nasx_duplicate_of", other.id if other else "this round")
            if other is not None and is_finished(other):
                study.tell(trial, _objective_values(other, opts.objectives,
                                                    a.costs.figures(other.spec)))
            else:
                study.tell(trial, state=TrialState.FAIL)
            summary.duplicates += 1
            continue
        known[nt.fingerprint] = -1  # taken by this round
        chosen.append(Pick(trial, nt, verdict.measured))
    return chosen


def refine(run_dir: str | Path, opts: RefineOptions, exec_opts: ExecOptions) -> RefineSummary:
    """Run (or continue) the study: train ``opts.trials`` new trials and return the summary."""
    run = Path(run_dir)
    opts.validate(exec_opts.executor)
    n_obj = len(opts.objectives)
    sampler_name = opts.sampler or ("nsga2" if n_obj > 1 else "tpe")
    check_sampler(sampler_name, n_obj)  # before the study is opened or changed
    with RunStore.open(run) as store, driver_lock(store):  # nothing changes before the lock
        space = load_space(store.space_path)
        slots = space_slots(space)
        if not slots:
            raise RefineError("the space samples nothing: every parameter is fixed",
                              where=str(store.space_path))
        choice = choose_recipe(store, exec_opts.overrides)
        exec_opts = dataclasses.replace(exec_opts, overrides=choice.overrides)
        if choice.note():
            print(f"nasx: note: {choice.note()}", file=sys.stderr)
        meta = store.meta()
        name = opts.study or _study_name(meta.get("name") or run.name, opts, choice)
        storage = opts.storage or f"sqlite:///{(run / 'optuna.db').resolve()}"
        level = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is noise here
        stack = contextlib.ExitStack()  # the executor's session, once past the study's checks
        try:
            study = _open_study(opts, name, storage, space, run)
            summary = RefineSummary(study=name, storage=storage, sampler=sampler_name,
                                    objectives=opts.objectives)
            if opts.prune:  # before _resume: a trial trained again is pruned as before
                study.pruner = make_pruner(opts.prune, _epochs(choice.recipe))
            costs = Costs.of(space, store, opts.objectives)
            # one Ray for every round of this call, not a start and a shutdown per round
            stack.enter_context(executor_session(exec_opts))
            _resume(study, store, exec_opts, opts, summary, costs)
            _warm_start(study, store, slots, opts.objectives, summary, choice.recipe, costs)
            # a fresh seed per call: the same seed again would replay the same suggestions
            study.sampler = sampler(sampler_name, _trial_seed(opts.seed, len(study.trials), 7),
                                    n_obj)
            _loop(_Asking(study, space, slots, store, opts, summary, int(meta.get("seed") or 0),
                          budget=opts.max_suggestions or 20 * opts.trials * opts.oversample + 100,
                          known={t.fingerprint: t.id for t in store.trials()}, costs=costs,
                          feasible=Feasibility(space)),
                  exec_opts)
            summary.measured_line = costs.line()
            summary.measured, summary.warm_measured, summary.warm_stored = (
                costs.measured, costs.warm_measured, costs.warm_stored)
            _finish(study, store, opts, summary)
        finally:
            stack.close()
            optuna.logging.set_verbosity(level)
    return summary


def _epochs(recipe: dict[str, Scalar]) -> int | None:
    """The population's epochs (the full budget a pruner measures against)."""
    epochs = recipe.get("epochs")
    return epochs if isinstance(epochs, int) else None


def _study_name(run_name: str, opts: RefineOptions, choice: RecipeChoice) -> str:
    """<run>-<objectives>; a recipe other than the population's gets a study of its own."""
    name = f"{run_name}-{'-'.join(opts.objectives)}"
    if choice.differs:
        name += f"-recipe-{population.key(choice.recipe, choice.sampled)}"
    return name


def _loop(a: _Asking, exec_opts: ExecOptions) -> None:
    """Rounds of ask, (prerank,) store, train, tell until ``trials`` new trials trained."""
    study, store, opts, summary = a.study, a.store, a.opts, a.summary
    ranker = (Prerank(opts.prerank, store, dict(exec_opts.overrides or {}))
              if opts.prerank else None)
    summary.prerank = opts.prerank
    while len(summary.trained) < opts.trials:
        want = min(opts.batch, opts.trials - len(summary.trained))
        chosen = _ask_round(a, want * opts.oversample if ranker else want)
        if not chosen:
            summary.exhausted = True
            break
        scores: dict[int, float] = {}  # Optuna trial number -> proxy value
        if ranker is not None:
            chosen, scores = ranker.rank(study, chosen, want, a.known)
            summary.preranked += len(scores) - len(chosen)
        ids = store.add_trials([p.nt for p in chosen])
        for p, i in zip(chosen, ids, strict=True):
            p.trial.set_user_attr("nasx_id", i)
            a.known[p.nt.fingerprint] = i
            # measured before training (a latency needs no trained weights), after preranking
            a.costs.record_new(i, p.measured, a.costs.measure(p.nt.spec, p.measured))
        if ranker is not None:
            ranker.record(ids, [scores[p.trial.number] for p in chosen])
        summary.trained.extend(ids)
        running = {i: p.trial for p, i in zip(chosen, ids, strict=True)}
        _train(store, exec_opts, ids, StudyPruner(opts.prune, running) if opts.prune else None)
        for i, trial in running.items():
            _count(summary, _tell_from_store(study, trial, store.get(i), opts.objectives,
                                             a.costs))


def _finish(study: optuna.Study, store: RunStore, opts: RefineOptions,
            summary: RefineSummary) -> None:
    """Best trial / Pareto front into the summary and the run's meta."""
    summary.study_trials = len(study.trials)
    # Optuna's best_trial(s) skip trials whose constraint is violated; guard the all-infeasible case
    feasible = [t for t in study.trials if t.state == TrialState.COMPLETE
                and all(v <= 0 for v in t.constraints.values())]
    if feasible and len(opts.objectives) == 1:
        best = study.best_trial
        summary.best = {"error": best.value, "number": best.number,
                        "nasx_id": best.user_attrs.get("nasx_id",
                                                       best.user_attrs.get("nasx_duplicate_of"))}
    elif feasible:
        rows = []
        for t in study.best_trials:
            row = dict(zip(opts.objectives, t.values, strict=True))
            row.update(number=t.number, nasx_id=t.user_attrs.get(
                "nasx_id", t.user_attrs.get("nasx_duplicate_of")))
            rows.append(row)
        summary.pareto = sorted(rows, key=lambda r: (r["error"], r[opts.objectives[1]]))
        if summary.pareto:
            top = summary.pareto[0]
            summary.best = {"error": top["error"], "number": top["number"],
                            "nasx_id": top["nasx_id"]}
    record = dict(store.meta().get("refine") or {})
    record[summary.study] = {
        "storage": summary.storage if summary.storage.startswith("sqlite") else "(given)",
        "objectives": list(opts.objectives), "sampler": summary.sampler,
        "trials": summary.study_trials, "best": summary.best, "pareto": summary.pareto,
    }
    store.set_meta(refine=record)
