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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasx.data.augment import eval_batches, random_crop_flip, steps_per_epoch, train_batches
from nasx.train.optim import build_optimizer
from nasx.train.schedule import lr_at, warmup_steps_for

if TYPE_CHECKING:
    import torch

    from nasx.data.base import Dataset
    from nasx.train.recipe import Recipe

OnEpoch = Callable[[int, dict[str, Any]], bool]
EVAL_BATCH = 1024


@dataclass
class FitOutcome:
    """Status, per-epoch records and final metrics of one training.

    A record: epoch, train_loss, train_error, val_loss, val_error, test_loss, test_error, lr,
    seconds (None where not evaluated; the test pair only in the final record).
    """

    status: str  # done | diverged
    curves: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


def _autocast(device: torch.device, recipe: Recipe) -> contextlib.AbstractContextManager[Any]:
    import torch

    if device.type == "cuda" and recipe.amp:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def evaluate(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, recipe: Recipe, device: torch.device
) -> tuple[float, float]:
    """(mean loss, top-1 error %) of ``model`` on (x, y); one host sync at the end."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    cl = device.type == "cuda" and recipe.channels_last
    with torch.no_grad(), _autocast(device, recipe):
        for xb, yb in eval_batches(x, y, EVAL_BATCH):
            if cl:
                xb = xb.contiguous(memory_format=torch.channels_last)
            logits = model(xb)
            loss_sum += F.cross_entropy(logits.float(), yb, reduction="sum").double()
            correct += (logits.argmax(1) == yb).sum()
    n = max(1, x.shape[0])
    return loss_sum.item() / n, 100.0 * (1.0 - correct.item() / n)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


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
    import torch
    import torch.nn.functional as F  # noqa: N812

    if device.type == "cuda":
        # Shapes are fixed within a trial: let cuDNN pick the fastest kernels once per shape.
        torch.backends.cudnn.benchmark = True
    cl = device.type == "cuda" and recipe.channels_last
    if cl:
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if recipe.compile and device.type == "cuda" else model
    opt = build_optimizer(model, recipe, device)
    gen = torch.Generator(device=device).manual_seed(seed)  # shuffling and augmentation
    n_train = data.x_train.shape[0]
    spe = steps_per_epoch(n_train, recipe.batch_size)
    total = spe * recipe.epochs
    warm = warmup_steps_for(recipe.warmup_epochs, spe)
    augment = recipe.augment and (data.crop or data.flip)
    out = FitOutcome(status="done")
    step, images, train_time = 0, 0, 0.0
    for epoch in range(1, recipe.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        loss_sum = torch.zeros((), device=device, dtype=torch.float64)
        correct = torch.zeros((), device=device, dtype=torch.int64)
        seen = 0
        for xb, yb in train_batches(data.x_train, data.y_train, recipe.batch_size, gen):
            lr = lr_at(step, total, recipe.lr, warm, recipe.warmup_factor)
            for group in opt.param_groups:
                group["lr"] = lr
            if augment:
                xb = random_crop_flip(xb, gen, crop=data.crop, flip=data.flip)
            if cl:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with _autocast(device, recipe):
                logits = net(xb)
                loss = F.cross_entropy(logits.float(), yb, label_smoothing=recipe.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach().double() * yb.shape[0]
            correct += (logits.detach().argmax(1) == yb).sum()
            seen += yb.shape[0]
            step += 1
        train_loss = loss_sum.item() / seen  # the one sync of the epoch
        train_error = 100.0 * (1.0 - correct.item() / seen)
        epoch_train = time.perf_counter() - t0
        train_time += epoch_train
        images += seen
        record: dict[str, Any] = {
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
            out.status = "diverged"
            out.message = f"loss became {train_loss} in epoch {epoch}"
            break
        evaluated = epoch % recipe.eval_every == 0 or epoch == recipe.epochs
        if evaluated:
            val_loss, val_error = evaluate(net, data.x_val, data.y_val, recipe, device)
            if not math.isfinite(val_loss):
                out.status = "diverged"
                out.message = f"validation loss became {val_loss} in epoch {epoch}"
            record.update(val_loss=_finite(val_loss), val_error=val_error)
        record["seconds"] = time.perf_counter() - t0
        out.curves.append(record)
        if out.status == "diverged":
            break
        stop = evaluated and on_epoch is not None and on_epoch(epoch, dict(record)) is False
        if stop and epoch < recipe.epochs:  # a stop after the last epoch is a complete trial
            out.metrics["stopped_early"] = True
            break
    last = out.curves[-1]
    if out.status == "done":
        # The final model (last epoch, or where on_epoch stopped it) is tested once.
        t0 = time.perf_counter()
        test_loss, test_error = evaluate(net, data.x_test, data.y_test, recipe, device)
        last.update(test_loss=_finite(test_loss), test_error=test_error)
        last["seconds"] += time.perf_counter() - t0
        if not math.isfinite(test_loss):
            out.status = "diverged"
            out.message = f"test loss became {test_loss} in epoch {last['epoch']}"
    out.metrics.update(
        epochs=len(out.curves),
        train_error=last["train_error"],
        images_per_second=images / train_time if train_time > 0 else 0.0,
        train_seconds=train_time,
        train_images=n_train,
        val_images=int(data.x_val.shape[0]),
        test_images=int(data.x_test.shape[0]),
    )
    if out.status == "done":
        validated = [r["val_error"] for r in out.curves if r["val_error"] is not None]
        out.metrics.update(
            val_error=last["val_error"],  # the final epoch is always validated
            val_loss=last["val_loss"],
            best_val_error=min(validated),
            test_error=last["test_error"],
            test_loss=last["test_loss"],
        )
    return out
