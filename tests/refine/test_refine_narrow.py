"""nasx narrow: a valid, strictly narrower space with its lineage (synthetic errors, no training)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from nasx.cli.main import main
from nasx.errors import NothingNarrowedError, RefineError
from nasx.refine.narrow import narrow
from nasx.refine.ranges import is_strict_subset, is_subset
from nasx.refine.slots import space_slots
from nasx.space import load_space


def test_narrow_writes_a_strictly_narrower_valid_space(fake_run: Path, space_file: Path,
                                                       tmp_path: Path):
    out = tmp_path / "narrow.yaml"
    res = narrow(fake_run, out, seed=0, boot=500)
    parent, child = load_space(fake_run / "space.yaml"), load_space(out)
    old = {s.name: s.dist for s in space_slots(parent)}
    new = {s.name: s.dist for s in space_slots(child)}
    assert set(new) <= set(old)
    assert all(is_subset(new[k], old[k]) for k in new)
    assert any(is_strict_subset(new[k], old[k]) for k in new)
    # the synthetic error prefers a wide last stage: its lower bound moves up
    assert child.per_stage["width"][1].lo > parent.per_stage["width"][1].lo
    # ... and growing widths: the relation is added with its numbers
    assert child.relations.get("width") == "non_decreasing"
    assert any(r.key == "width" and r.supported for r in res.relations)
    # everything else of the parent is kept
    assert (child.family, child.constraints, child.train_fixed, child.n, child.seed) == (
        parent.family, parent.constraints, parent.train_fixed, parent.n, parent.seed)
    assert child.input == parent.input
    lineage = yaml.safe_load(out.read_text())["lineage"]
    text = (fake_run / "space.yaml").read_text()
    assert lineage["parent"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert lineage["run"]["n_finished"] == 40 and lineage["run"]["origin"] == "sampled"
    assert child.lineage["parent"]["sha256"] == parent.sha256  # the loader keeps the lineage
    assert lineage["relations"]["width"]["supported"] is True
    assert 0 <= lineage["relations"]["width"]["p"] < 0.05
    assert out.read_text().startswith("# narrowed ")


def test_narrowed_space_samples(fake_run: Path, tmp_path: Path):
    from nasx.sample import create_run

    out = tmp_path / "child.yaml"
    narrow(fake_run, out, boot=200)
    store, summary = create_run(out, n=5, seed=3, out=tmp_path / "child_run", progress=False)
    child = load_space(out)
    widths = [(t.values["width_1"], t.values["width_2"]) for t in store.trials()]
    store.close()
    assert summary.accepted == 5
    assert all(w1 <= w2 and w2 >= child.per_stage["width"][1].lo for w1, w2 in widths)


def test_too_few_models_cut_nothing_say_why_and_how_many(tmp_path: Path, space_file: Path,
                                                         fill, capsys):
    from nasx.sample import create_run

    store, _ = create_run(space_file, n=8, seed=0, out=tmp_path / "run", progress=False)
    fill(store)  # a strong, deterministic effect of width_2: still only 8 models
    store.close()
    out = tmp_path / "never.yaml"
    with pytest.raises(NothingNarrowedError, match="no parameter can be narrowed") as e:
        narrow(tmp_path / "run", out, boot=200)
    assert "models" in str(e.value) and not out.exists()
    res = e.value.result
    assert all(not c.narrowed for c in res.cuts) and res.n == 8
    assert main(["narrow", str(tmp_path / "run"), "--out", str(out), "--boot", "200"]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("nasx narrow: error:") and "\n" not in err
    assert "no cut can reach it with fewer than 32 models" in err or "would support" in err
    printed = captured.out
    assert "with 8 models no cut can reach that level: it takes at least 32 models" in printed
    for c in res.cuts:  # one line per parameter, with its evidence
        assert f"  {c.slot.name}: " in printed
    assert not out.exists()


def _unchanged(dist):
    from nasx.refine.support import Support

    return Support(new=dist, proposed=dist, proposed_support=None, kept_by=None,
                   removed_by=None, level=0.95, halves=400)


def test_no_parameter_narrowable(fake_run: Path, tmp_path: Path, monkeypatch):
    import nasx.refine.narrow as mod

    monkeypatch.setattr(mod, "supported_cut", lambda dist, *a: _unchanged(dist))  # all stay
    monkeypatch.setattr(mod, "_relations", lambda space, frame: [])
    out = tmp_path / "same.yaml"
    with pytest.raises(RefineError, match="no parameter can be narrowed"):
        narrow(fake_run, out)
    assert not out.exists() and not list(tmp_path.glob(".same*"))


def test_cli_narrow_prints_and_refuses_to_overwrite(fake_run: Path, tmp_path: Path, capsys):
    out = tmp_path / "cli.yaml"
    assert main(["narrow", str(fake_run), "--out", str(out), "--boot", "200"]) == 0
    printed = capsys.readouterr().out
    assert "narrowed" in printed and "relation width: non_decreasing added" in printed
    assert main(["narrow", str(fake_run), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err


def test_narrow_regnet_scalars_keep_their_kind(tmp_path: Path, regnet_file: Path, fill):
    from nasx.sample import create_run

    store, _ = create_run(regnet_file, n=96, seed=2, out=tmp_path / "run", progress=False)
    # small initial widths and slow growth are better
    fill(store, lambda v: 20.0 + v["w0"] + 0.5 * v["wa"])
    store.close()
    out = tmp_path / "regnet_narrow.yaml"
    narrow(tmp_path / "run", out, boot=300)
    parent, child = load_space(regnet_file), load_space(out)
    w0, wa = child.params["w0"], child.params["wa"]
    assert w0.q == 8 and w0.log and w0.lo % 8 == 0 and w0.hi % 8 == 0
    assert w0.hi < parent.params["w0"].hi
    assert wa.log and parent.params["wa"].lo <= wa.lo and wa.hi <= parent.params["wa"].hi
    assert child.params["stem"] == parent.params["stem"]
    assert not child.relations  # no per-stage keys: nothing to relate


def test_narrowed_train_block_is_the_parent_population_recipe(tmp_path: Path, space_file: Path,
                                                             fill):
    """The run was trained with --epochs 2 (the space file says 1): the narrowed file says 2."""
    from nasx.sample import create_run
    from nasx.train import population
    from nasx.train.recipe import resolve_recipe

    store, _ = create_run(space_file, n=40, seed=1, out=tmp_path / "run", progress=False)
    last = max(t.id for t in store.trials())
    for t in store.trials("pending"):  # all but the last get synthetic errors
        if t.id != last:
            store.mark_running(t.id, None)
            store.finish(t.id, "done", error=float(80.0 - 0.8 * t.values["width_2"]
                                                   + 0.01 * t.values["depth_1"]), metrics={})
    store.close()
    assert main(["train", str(tmp_path / "run"), "--epochs", "2", "--executor", "inline",
                 "--no-progress", "--keep-weights", "0"]) == 0  # trains the last: records it
    from nasx.store import RunStore

    with RunStore.open(tmp_path / "run") as st:
        recorded = st.run_recipe()
    assert recorded is not None and recorded["epochs"] == 2
    out = tmp_path / "child.yaml"
    narrow(tmp_path / "run", out, boot=200)
    parent, child = load_space(space_file), load_space(out)
    assert parent.train_fixed["epochs"] == 1 and child.train_fixed["epochs"] == 2
    sampled = tuple(parent.train_dists)
    assert set(child.train_dists) == set(sampled)  # lr is still drawn per trial
    resolved = resolve_recipe(child.train_fixed, None, None).to_dict()
    assert population.same(resolved, recorded, sampled)
    assert child.train_fixed["threads"] == parent.train_fixed["threads"]  # execution: kept
