"""The training loop proper: any ``nn.Module`` on any in-memory :class:`~nasx.data.Dataset`.

No host synchronisation inside the step loop: loss sums and correct counts accumulate on the device
and are read once per epoch (which also detects a NaN/inf loss: it poisons the sum).

The model learns from the training part, is validated every ``eval_every`` epochs and at the last
one (the validation error is what every selection uses: pruning, narrowing, refinement, best-model
choice), and is tested once, on the final model: the test error is reported, never selected on.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasx.data.augment import random_crop_flip, steps_per_epoch, train_batches
from nasx.status import TrialStatus
from nasx.train.cuda_setup import (
    autocast_for,
    determinism,
    grad_scaler,
    peak_memory_metrics,
    reset_peak_memory,
)
from nasx.train.job import EpochRecord, Metrics, OnEpoch, drive
from nasx.train.optim import build_optimizer
from nasx.train.schedule import lr_at, warmup_steps_for

if TYPE_CHECKING:
    import torch

    from nasx.data.base import Dataset
    from nasx.train.recipe import Recipe

EVAL_BATCH = 1024  # the largest evaluation batch (nasx.execute.packing counts it too)


@dataclass
class FitOutcome:
    """Status, per-epoch records and final metrics of one training.

    A record: epoch, train_loss, train_error, val_loss, val_error, test_loss, test_error, lr,
    seconds (None where not evaluated; the test pair only in the final record).
    """

    status: TrialStatus  # DONE | DIVERGED
    curves: list[EpochRecord] = field(default_factory=list)
    metrics: Metrics = field(default_factory=dict)
    message: str | None = None


def _autocast(device: torch.device, recipe: Recipe) -> contextlib.AbstractContextManager[Any]:
    return autocast_for(device, recipe.amp)


def eval_batch_size(*sizes: int) -> int:
    """The one evaluation batch of a trial: the largest part evaluated, at most EVAL_BATCH."""
    return max(1, min(EVAL_BATCH, max(sizes, default=1)))


def evaluate(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, recipe: Recipe, device: torch.device,
    batch: int = EVAL_BATCH,
) -> tuple[float, float]:
    """(mean loss, top-1 error %) of ``model`` on (x, y); one host sync at the end.

    Every batch has ``batch`` images: the last partial one is padded with zeros and the padding
    left out of the loss and the count (the model is in eval mode, so padded images change no
    other image's output). One input shape per evaluation, so cuDNN autotunes it once.
    """
    import torch
    import torch.nn.functional as F  # noqa: N812

    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    cl = device.type == "cuda" and recipe.channels_last
    with torch.no_grad(), _autocast(device, recipe):
        for i in range(0, x.shape[0], batch):
            xb, yb = x[i : i + batch], y[i : i + batch]
            k = xb.shape[0]
            if k < batch:
                xb = torch.cat([xb, xb.new_zeros((batch - k, *xb.shape[1:]))])
            if cl:
                xb = xb.contiguous(memory_format=torch.channels_last)
            logits = model(xb)[:k]
            loss_sum += F.cross_entropy(logits.float(), yb, reduction="sum").double()
            correct += (logits.argmax(1) == yb).sum()
    n = max(1, x.shape[0])
    return loss_sum.item() / n, 100.0 * (1.0 - correct.item() / n)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


@dataclass
class _Trainer:
    """What the epochs of one :func:`fit` share: the network, optimiser, generator and counters."""

    model: torch.nn.Module
    net: Any  # ``model``, or its torch.compile wrapper
    opt: Any
    gen: Any  # torch.Generator: shuffling and augmentation
    data: Dataset
    recipe: Recipe
    device: torch.device
    channels_last: bool
    augment: bool
    total: int  # optimiser steps of the whole training
    warm: int  # warmup steps
    eval_batch: int  # the one evaluation shape (validation and test)
    scaler: Any = None  # torch.amp.GradScaler when autocast is fp16 (compute capability < 8)
    step: int = 0
    images: int = 0
    train_time: float = 0.0


def _trainer(model: torch.nn.Module, data: Dataset, recipe: Recipe, seed: int,
             device: torch.device) -> _Trainer:
    import torch

    # cudnn.benchmark (or determinism) is set by fit_steps; a trial feeds two shapes: its full
    # training batches and its one evaluation batch.
    reset_peak_memory(device)
    cl = device.type == "cuda" and recipe.channels_last
    if cl:
        model = model.to(memory_format=torch.channels_last)
    spe = steps_per_epoch(data.x_train.shape[0], recipe.batch_size)
    return _Trainer(model=model, net=compiled(model, recipe, device),
                    opt=build_optimizer(model, recipe, device),
                    gen=torch.Generator(device=device).manual_seed(seed), data=data,
                    recipe=recipe, device=device, channels_last=cl,
                    augment=bool(recipe.augment and (data.crop or data.flip)),
                    total=spe * recipe.epochs,
                    warm=warmup_steps_for(recipe.warmup_epochs, spe),
                    eval_batch=eval_batch_size(data.x_val.shape[0], data.x_test.shape[0]),
                    scaler=grad_scaler(device, recipe.amp))


def compiled(model: torch.nn.Module, recipe: Recipe, device: torch.device) -> Any:
    """``model`` under torch.compile when the recipe asks for it on CUDA, else ``model``.

    Every architecture runs the same ``Net.forward`` code, so dynamo's guards pile up on it from
    trial to trial: after its recompile limit (8 by default) a process silently runs eager. Each
    trial therefore starts from an empty dynamo cache (``torch._dynamo.reset``) and pays its own
    compilation, which is what the trial's seconds then include.
    """
    if not (recipe.compile and device.type == "cuda"):
        return model
    import torch
    import torch._dynamo

    torch._dynamo.reset()
    return torch.compile(model)


def _train_epoch(tr: _Trainer) -> tuple[float, float, float, int]:
    """One pass over the training part: (train loss, train error %, last lr, images seen)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    data, recipe, device = tr.data, tr.recipe, tr.device
    tr.model.train()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    seen = 0
    for xb, yb in train_batches(data.x_train, data.y_train, recipe.batch_size, tr.gen):
        lr = lr_at(tr.step, tr.total, recipe.lr, tr.warm, recipe.warmup_factor)
        for group in tr.opt.param_groups:
            group["lr"] = lr
        if tr.augment:
            xb = random_crop_flip(xb, tr.gen, crop=data.crop, flip=data.flip)
        if tr.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with _autocast(device, recipe):
            logits = tr.net(xb)
            loss = F.cross_entropy(logits.float(), yb, label_smoothing=recipe.label_smoothing)
        tr.opt.zero_grad(set_to_none=True)
        if tr.scaler is None:
            loss.backward()
            tr.opt.step()
        else:  # fp16: scale the loss so small gradients survive; skip steps with inf gradients
            tr.scaler.scale(loss).backward()
            tr.scaler.step(tr.opt)
            tr.scaler.update()
        loss_sum += loss.detach().double() * yb.shape[0]
        correct += (logits.detach().argmax(1) == yb).sum()
        seen += yb.shape[0]
        tr.step += 1
    # the one sync of the epoch
    return loss_sum.item() / seen, 100.0 * (1.0 - correct.item() / seen), lr, seen


def _epoch(tr: _Trainer, epoch: int, out: FitOutcome) -> bool:
    """Train one epoch, validate it when due and record it in ``out``; False when it diverged."""
    t0 = time.perf_counter()
    train_loss, train_error, lr, seen = _train_epoch(tr)
    epoch_train = time.perf_counter() - t0
    tr.train_time += epoch_train
    tr.images += seen
    record: EpochRecord = {
        "epoch": epoch,
        "train_loss": _finite(train_loss),
        "train_error": train_error,
        "val_loss": None,
        "val_error": None,
        "test_loss": None,
        "test_error": None,
        "lr": lr,
        "seconds": epoch_train,
    }
    if not math.isfinite(train_loss):
        record["seconds"] = time.perf_counter() - t0
        out.curves.append(record)
        out.status = TrialStatus.DIVERGED
        out.message = f"loss became {train_loss} in epoch {epoch}"
        return False
    recipe = tr.recipe
    evaluated = epoch % recipe.eval_every == 0 or epoch == recipe.epochs
    if evaluated:
        val_loss, val_error = evaluate(tr.net, tr.data.x_val, tr.data.y_val, recipe, tr.device,
                                       tr.eval_batch)
        if not math.isfinite(val_loss):
            out.status = TrialStatus.DIVERGED
            out.message = f"validation loss became {val_loss} in epoch {epoch}"
        record.update(val_loss=_finite(val_loss), val_error=val_error)
    record["seconds"] = time.perf_counter() - t0
    out.curves.append(record)
    return out.status is not TrialStatus.DIVERGED


def _final_metrics(tr: _Trainer, out: FitOutcome) -> None:
    """Test the final model once (unless diverged) and fill ``out.metrics``."""
    data, last = tr.data, out.curves[-1]
    if out.status is TrialStatus.DONE:
        # The final model (last epoch, or where on_epoch stopped it) is tested once.
        t0 = time.perf_counter()
        test_loss, test_error = evaluate(tr.net, data.x_test, data.y_test, tr.recipe, tr.device,
                                         tr.eval_batch)
        last.update(test_loss=_finite(test_loss), test_error=test_error)
        last["seconds"] += time.perf_counter() - t0
        if not math.isfinite(test_loss):
            out.status = TrialStatus.DIVERGED
            out.message = f"test loss became {test_loss} in epoch {last['epoch']}"
    out.metrics.update(
        epochs=len(out.curves),
        train_error=last["train_error"],
        images_per_second=tr.images / tr.train_time if tr.train_time > 0 else 0.0,
        train_seconds=tr.train_time,
        train_images=data.x_train.shape[0],
        val_images=int(data.x_val.shape[0]),
        test_images=int(data.x_test.shape[0]),
        **peak_memory_metrics(tr.device),
    )
    if out.status is TrialStatus.DONE:
        validated = [r["val_error"] for r in out.curves if r["val_error"] is not None]
        out.metrics.update(
            val_error=last["val_error"],  # the final epoch is always validated
            val_loss=last["val_loss"],
            best_val_error=min(validated),
            test_error=last["test_error"],
            test_loss=last["test_loss"],
        )


FitSteps = Generator[EpochRecord, bool | None, FitOutcome]


def fit_steps(
    model: torch.nn.Module,
    data: Dataset,
    recipe: Recipe,
    *,
    seed: int,
    device: torch.device,
) -> FitSteps:
    """:func:`fit` one epoch at a time: yields a copy of every epoch's record, returns the outcome.

    The value sent back after a record is True to stop the training there (``stopped_early``;
    a stop after the last epoch is a complete trial). The caller may also close the generator
    at a yield (an executor that prunes the trial needs nothing more from it).
    """
    with determinism(device, recipe.deterministic):
        tr = _trainer(model, data, recipe, seed, device)
        out = FitOutcome(status=TrialStatus.DONE)
        for epoch in range(1, recipe.epochs + 1):
            going = _epoch(tr, epoch, out)
            stop = yield out.curves[-1].copy()
            if not going:
                break
            if stop and epoch < recipe.epochs:
                out.metrics["stopped_early"] = True
                break
        _final_metrics(tr, out)
    return out


def fit(
    model: torch.nn.Module,
    data: Dataset,
    recipe: Recipe,
    *,
    seed: int,
    device: torch.device,
    on_epoch: OnEpoch | None = None,
) -> FitOutcome:
    """Train ``model`` (already on ``device``) for ``recipe.epochs``; divergence is a status.

    ``on_epoch(epoch, record)`` sees every validated epoch's record (``val_error`` set, the test
    pair None) and stops the training by returning False.
    """
    return drive(fit_steps(model, data, recipe, seed=seed, device=device), on_epoch)
