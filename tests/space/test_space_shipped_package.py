"""The shipped spaces are package data: found by name, inside the wheel, usable from any folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nasx.cli.demo import find_demo_space
from nasx.cli.main import main
from nasx.space import load_space
from nasx.space.shipped import resolve_space, shipped_dir, shipped_names, shipped_space

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (REPO / "nasx" / "spaces").glob("*.yaml"))


def test_top_level_spaces_is_a_link_to_the_package_folder():
    link = REPO / "spaces"
    assert link.is_symlink() and os.readlink(link) == "nasx/spaces"
    assert sorted(p.stem for p in link.glob("*.yaml")) == SHIPPED
    assert shipped_dir().resolve() == (REPO / "nasx" / "spaces").resolve()
    assert shipped_names() == SHIPPED and "regnet_digits" in SHIPPED


@pytest.mark.parametrize("form", ["{}", "{}.yaml", "spaces/{}.yaml"])
def test_a_shipped_name_resolves_in_any_folder(tmp_path, monkeypatch, form):
    monkeypatch.chdir(tmp_path)
    for name in SHIPPED:
        space = load_space(form.format(name))
        assert space.name == name and space.path == shipped_dir() / f"{name}.yaml"


def test_existing_files_win_and_unknown_names_stay_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "regnet.yaml").write_text("family: regnet\nname: mine\n")
    assert resolve_space("regnet.yaml") == Path("regnet.yaml")
    assert load_space("regnet.yaml").name == "mine"
    for bad in ("nope", "other/regnet.yaml", "../regnet", ".hidden", ""):
        assert shipped_space(bad) is None
        assert resolve_space(bad) == Path(bad)
    assert main(["sample", "nope", "--n", "1"]) == 2
    assert not (tmp_path / "runs").exists()


def test_sample_a_bare_shipped_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sample", "anynet_digits", "--n", "3", "--no-progress"]) == 0
    assert "sampled 3 architectures from anynet_digits" in capsys.readouterr().out
    assert (tmp_path / "runs" / "anynet_digits" / "run.db").is_file()


def test_describe_a_shipped_name_but_zoo_names_stay_models(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.chdir(tmp_path)
    assert main(["describe", "anynet_a", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["kind"], d["family"], d["n"]) == ("space", "anynet", 500)
    assert main(["describe", "spaces/regnet.yaml", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "space"
    assert main(["describe", "mobilenetv2", "--json"]) == 0  # the zoo model, as before
    assert json.loads(capsys.readouterr().out)["flops"] == 300775272
    assert main(["describe", "spaces/nope.yaml"]) == 2


def test_demo_space_is_the_packaged_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_demo_space() == shipped_dir() / "regnet_digits.yaml"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """A wheel built from a copy of the sources (the shared working tree gets no build/ folder)."""
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "nasx", src / "nasx",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("whl")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (path,) = out.glob("nasx-*.whl")
    return path


def test_the_wheel_holds_every_shipped_space(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n for n in names if n.startswith("nasx/spaces/")) == [
        f"nasx/spaces/{s}.yaml" for s in SHIPPED]


def test_the_unpacked_wheel_finds_its_spaces_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = (
        "import nasx, nasx.cli.demo as d; from nasx.cli.main import main;"
        "print(nasx.__file__); print(d.find_demo_space());"
        "raise SystemExit(main(['sample', 'regnet_digits', '--n', '2', '--no-progress']))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}  # ahead of the editable install
    proc = subprocess.run([sys.executable, "-c", code], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(str(site)), lines[0]  # the unpacked wheel, not the checkout
    assert lines[1] == str(site / "nasx" / "spaces" / "regnet_digits.yaml")
    assert (work / "runs" / "regnet_digits" / "run.db").is_file()
