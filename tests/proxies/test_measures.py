"""The proxies against values computed by hand for tiny networks, and the registry."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from nasx.proxies import PROXIES, proxies_of
from nasx.proxies.measures import (
    grad_norm,
    hamming_kernel,
    jacob_cov,
    naswot,
    snip,
    synflow,
    zico,
)


def linear(*rows: list[float]) -> nn.Linear:
    """A bias-free Linear layer with the given weight rows."""
    w = torch.tensor(rows, dtype=torch.float32)
    layer = nn.Linear(w.shape[1], w.shape[0], bias=False)
    with torch.no_grad():
        layer.weight.copy_(w)
    return layer


def test_synflow_of_two_layer_linear_net() -> None:
    # |W2||W1| 1 = [1 1] [[1 2] [3 0.5]] [1 1]^T = 6.5 = R; sum over W1 of w dR/dw is R, and so
    # is the sum over W2 (R is linear in each layer): synflow = 2R = 13. BN is dropped.
    net = nn.Sequential(linear([1.0, -2.0], [3.0, 0.5]), nn.BatchNorm1d(2), linear([1.0, -1.0]))
    x = torch.randn(4, 2)
    assert synflow(net, x, torch.zeros(4, dtype=torch.long)) == pytest.approx(13.0)


def test_grad_norm_and_snip_of_known_linear_model() -> None:
    # z = W x = [1, 0]; p = softmax = [e, 1]/(e + 1); dL/dz = p - onehot(1) = [a, -a], a = e/(e+1)
    # dL/dW = [[a, 0], [-a, 0]]: grad_norm = sqrt(2) a, snip = |a * 1| + |0 * 0| ... = a
    a = math.e / (math.e + 1)
    x, y = torch.tensor([[1.0, 0.0]]), torch.tensor([1])
    assert grad_norm(linear([1.0, 0.0], [0.0, 1.0]), x, y) == pytest.approx(math.sqrt(2) * a)
    assert snip(linear([1.0, 0.0], [0.0, 1.0]), x, y) == pytest.approx(a)


def test_grad_norm_of_zero_weights() -> None:
    # W = 0: p = [0.5, 0.5]; dL/dW = [[-0.5, 0], [0.5, 0]], norm sqrt(0.5)
    x, y = torch.tensor([[1.0, 0.0]]), torch.tensor([0])
    assert grad_norm(linear([0.0, 0.0], [0.0, 0.0]), x, y) == pytest.approx(math.sqrt(0.5))


def test_hamming_kernel_and_logdet_of_hand_built_pattern() -> None:
    codes = torch.tensor([[1, 0, 1], [1, 1, 0]])
    k = hamming_kernel(codes)
    assert k.tolist() == [[3.0, 1.0], [1.0, 3.0]]
    assert float(torch.linalg.slogdet(k)[1]) == pytest.approx(math.log(8))


def test_naswot_of_a_relu_layer() -> None:
    # pre-activations [1, -1, 1] and [-1, 1, -1]: codes 101 and 010 agree nowhere, K = 3 I
    net = nn.Sequential(linear([1.0], [-1.0], [1.0]), nn.ReLU())
    x = torch.tensor([[1.0], [-1.0]])
    assert naswot(net, x, torch.zeros(2, dtype=torch.long)) == pytest.approx(math.log(9))


def test_jacob_cov_of_linear_model() -> None:
    # every image has the Jacobian [1, 2, 3]: C is all ones, eigenvalues 0 and 2
    k = 1e-5
    expected = -((math.log(k) + 1 / k) + (math.log(2 + k) + 1 / (2 + k)))
    x = torch.randn(2, 3)
    got = jacob_cov(linear([1.0, 2.0, 3.0]), x, torch.zeros(2, dtype=torch.long))
    assert got == pytest.approx(expected, rel=1e-6)


def test_zico_of_known_linear_model() -> None:
    # W = 0, class 0: halves x = 1 and x = 2 give dL/dW = [[-0.5], [0.5]] x; mean |g| = 0.75 and
    # std over the halves 0.25 for both weights: log(3 + 3)
    x, y = torch.tensor([[1.0], [2.0]]), torch.tensor([0, 0])
    assert zico(linear([0.0], [0.0]), x, y) == pytest.approx(math.log(6))


SPEC_SPACE = Path(__file__).parents[1] / "refine" / "anynet_tiny.yaml"


@pytest.fixture(scope="module")
def tiny_trial(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    from nasx.sample import create_run
    from nasx.space import load_space
    from nasx.train.recipe import resolve_recipe

    store, _ = create_run(SPEC_SPACE, n=1, seed=0, out=tmp_path_factory.mktemp("p") / "r",
                          progress=False)
    t = store.trials()[0]
    recipe = resolve_recipe(load_space(store.space_path).train_fixed, t.hparams, None)
    store.close()
    return t, recipe


@pytest.mark.parametrize("name", sorted(PROXIES))
def test_every_proxy_is_finite_and_seeded(name: str, tiny_trial) -> None:  # noqa: ANN001
    t, recipe = tiny_trial
    a = proxies_of(t.spec, recipe, t.seed, batch_size=16, names=[name])
    b = proxies_of(t.spec, recipe, t.seed, batch_size=16, names=[name])
    assert list(a) == [name] and math.isfinite(a[name])
    assert a == b


def test_registry_is_the_default_and_unknown_names_fail(tiny_trial) -> None:  # noqa: ANN001
    from nasx.errors import NasxError

    t, recipe = tiny_trial
    assert list(proxies_of(t.spec, recipe, t.seed, batch_size=16)) == list(PROXIES)
    assert set(PROXIES) == {"synflow", "snip", "grad_norm", "jacob_cov", "naswot", "zico"}
    with pytest.raises(NasxError, match="unknown proxy 'nope'"):
        proxies_of(t.spec, recipe, t.seed, names=["nope"])
