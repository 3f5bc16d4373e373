"""A real two-node Ray cluster on loopback: a sweep joined through the address lands on both."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from exec_helpers import fake_run, worker_env

from nasx.cli.main import build_parser
from nasx.cli.train import exec_options
from nasx.execute import ExecOptions, train_run

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(monkeypatch):
    import ray
    from ray._private import ray_constants
    from ray.cluster_utils import Cluster

    # Everything stays on loopback here (the nodes bind 127.0.0.1). ray.init(address=...) would
    # rewrite a loopback address into this machine's outward IP, where nothing listens; with this
    # switch off, Ray keeps 127.0.0.1 as the node address (it is read at call time).
    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", False)

    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_env()["PYTHONPATH"]  # node processes inherit it
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    c.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    c.wait_for_nodes()
    try:
        yield c
    finally:
        ray.shutdown()
        c.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


def test_sweep_through_address_uses_both_nodes(tmp_path: Path, scratch: Path, cluster):
    import ray

    args = build_parser().parse_args(["train", "RUN", "--address", cluster.address])
    assert exec_options(args).address == cluster.address  # what --address feeds train_run
    store = fake_run(tmp_path / "run", 4)
    opts = ExecOptions(executor="ray", address=cluster.address, progress=False,
                       overrides={"data_dir": str(scratch), "lr": 1.0})
    before = dict(os.environ)
    counts = train_run(store, opts, trial_fn="exec_fakes:ok_trial")
    assert counts["done"] == 4
    # A cluster is joined as configured: no loopback or token settings forced, none left behind.
    assert dict(os.environ) == before
    nodes = {t.metrics["ray_node"] for t in store.trials()}
    ray.init(address=cluster.address)  # train_run disconnected; look at the cluster's nodes
    alive = {n["NodeID"] for n in ray.nodes() if n["Alive"]}
    assert len(nodes) == 2 and nodes <= alive
