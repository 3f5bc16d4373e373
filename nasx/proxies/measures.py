"""The zero-cost proxies: one function ``(model, x, y) -> float`` each, registered in PROXIES.

Every proxy follows its published definition (NASLib's ``predictors/utils/pruners/measures``, the
papers cited in each docstring) and is computed at initialisation on ``x, y`` (the minibatches
concatenated). Higher is better for every one of them: a model with a larger score is predicted to
reach a lower error. Gradient-based proxies sum over the weights of the Conv2d and Linear layers
(NASLib's "prunable" layers); a proxy may change ``model`` (synflow does): give each a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import nn

Proxy = Callable[[nn.Module, torch.Tensor, torch.Tensor], float]

# The activations whose sign pattern NASWOT reads (ReLU in the paper; the others gate the same way).
ACTS = (nn.ReLU, nn.ReLU6, nn.SiLU, nn.GELU, nn.Hardswish, nn.LeakyReLU, nn.Mish)


def weighted(model: nn.Module) -> Iterator[nn.Conv2d | nn.Linear]:
    """The Conv2d and Linear layers of ``model`` (what the gradient proxies score)."""
    return (m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear))


def weight_grads(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, its gradient) of every scored layer that has received a gradient."""
    return [(m.weight.detach(), m.weight.grad.detach()) for m in weighted(model)
            if m.weight.grad is not None]


def _loss_backward(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    nn.functional.cross_entropy(model(x), y).backward()


def _no_batchnorm(model: nn.Module) -> None:
    """Replace every BatchNorm layer by an identity, in place (synflow is defined without BN)."""
    for name, child in list(model.named_children()):
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _no_batchnorm(child)


def synflow(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """SynFlow (Tanaka et al. 2020): S = sum_w theta_w * dR/dtheta_w with every parameter made
    |theta|, BatchNorm removed, double precision, R = sum(f(1)) for an all-ones input of one
    image. Data-free: ``y`` is unused and only the shape of ``x`` is read."""
    del y
    _no_batchnorm(model)
    model.double()
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    model.zero_grad(set_to_none=True)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    model(ones).sum().backward()
    return float(sum(float((w * g).sum()) for w, g in weight_grads(model)))


def snip(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """SNIP (Lee et al. 2019): S = sum_w |dL/dtheta_w * theta_w|, L the cross-entropy of the
    minibatch."""
    _loss_backward(model, x, y)
    return float(sum(float((g * w).abs().sum()) for w, g in weight_grads(model)))


def grad_norm(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """grad_norm (Abdelfattah et al. 2021): S = sum_layers ||dL/dW_layer||_2 (Frobenius norm of
    each layer's weight gradient of the minibatch cross-entropy, summed over layers)."""
    _loss_backward(model, x, y)
    return float(sum(float(g.norm()) for _, g in weight_grads(model)))


def jacob_cov(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """jacob_cov (Mellor et al. 2020, v1): J_i = d(sum_c f_c(x_i))/dx_i flattened, C = corrcoef(J)
    over the N images, S = -sum_k (log(l_k + 1e-5) + 1 / (l_k + 1e-5)) over C's eigenvalues."""
    del y
    model.zero_grad(set_to_none=True)
    xg = x.detach().clone().requires_grad_(True)
    model(xg).sum().backward()
    assert xg.grad is not None  # x is a leaf that requires grad
    jac = xg.grad.reshape(x.shape[0], -1).double()
    corrs = torch.corrcoef(jac)
    if not bool(torch.isfinite(corrs).all()):  # a constant Jacobian row: NASLib's NaN -> worst
        return float("-inf")
    v = torch.linalg.eigvalsh(corrs)
    k = 1e-5
    return float(-(torch.log(v + k) + 1.0 / (v + k)).sum())


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K = c c^T + (1 - c)(1 - c)^T for binary codes c (N x units): units where two images agree."""
    c = codes.double()
    return c @ c.T + (1 - c) @ (1 - c).T


def naswot(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """NASWOT (Mellor et al. 2021): K = sum over activation layers of the Hamming kernel of the
    binary codes 1[a > 0] of each image's units; S = log|det K| (slogdet)."""
    del y
    n = x.shape[0]
    kernel = torch.zeros((n, n), dtype=torch.float64, device=x.device)

    def hook(_m: nn.Module, _inp: object, out: torch.Tensor) -> None:
        nonlocal kernel
        kernel = kernel + hamming_kernel(out.detach().reshape(n, -1) > 0)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, ACTS)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return float(torch.linalg.slogdet(kernel)[1])


def zico(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """ZiCo (Li et al. 2023): with g the weight gradients of the minibatch split in two halves
    (ZiCo's code uses two batches), S = sum_layers log(sum_w mean_b|g_w| / std_b(g_w)) over the
    weights whose std over the halves is not 0 (layers whose sum is 0 are left out)."""
    halves = [(xa, ya) for xa, ya in zip(x.chunk(2), y.chunk(2), strict=True)]
    grads: list[list[torch.Tensor | None]] = []
    for xa, ya in halves:
        _loss_backward(model, xa, ya)
        grads.append([None if m.weight.grad is None else m.weight.grad.detach().clone()
                      for m in weighted(model)])
    score = 0.0
    for per_layer in zip(*grads, strict=True):
        kept = [g for g in per_layer if g is not None]
        if len(kept) < len(per_layer):
            continue
        g = torch.stack(kept).double()
        std = g.std(dim=0, unbiased=False)
        keep = std != 0
        total = float((g.abs().mean(dim=0)[keep] / std[keep]).sum())
        if total != 0:
            score += float(torch.log(torch.tensor(total)))
    return score


PROXIES: dict[str, Proxy] = {
    "synflow": synflow,
    "snip": snip,
    "grad_norm": grad_norm,
    "jacob_cov": jacob_cov,
    "naswot": naswot,
    "zico": zico,
}
