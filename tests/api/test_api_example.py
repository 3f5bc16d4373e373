"""docs/api.md's example runs as written, in a fresh process, with no CLI involved."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.mark.slow
def test_the_documented_example_runs(tmp_path):
    example = DOC.read_text(encoding="utf-8").split("## Example", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", example, flags=re.S)  # the section's one block
    check = ("\nimport sys\nassert 'nasx.cli' not in sys.modules\n"
             "assert (Path('reports/digits/summary.json')).is_file()\n")
    script = tmp_path / "example.py"
    script.write_text("from pathlib import Path\n" + code + check, encoding="utf-8")
    res = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert "regnet_digits vs anynet_digits: " in out
    assert "['provenance.json', 'spec.yaml', 'weights.safetensors']" in out
    assert "SamplingError n -> " in out
    assert (tmp_path / "chosen" / "provenance.json").is_file()
