"""The driver imports nasx.data and nasx.train.trainer without paying for torch."""

from __future__ import annotations

import subprocess
import sys


def test_data_and_trainer_import_without_torch() -> None:
    code = (
        "import sys; import nasx.data, nasx.train, nasx.train.trainer, nasx.train.schedule; "
        "from nasx.data import DataCache; DataCache(); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
