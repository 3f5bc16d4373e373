"""nasx.arch's lazy top-level names (import cost and layering: tests/test_layers.py)."""

from __future__ import annotations


def test_lazy_exports() -> None:
    import nasx.arch as arch

    assert sorted(arch.__all__) == sorted([*arch._LAZY, "Complexity", "complexity"])
    for name in arch.__all__:
        assert getattr(arch, name) is not None
    assert callable(arch.complexity) and callable(arch.decode)
