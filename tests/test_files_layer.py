"""The file formats sit below the service: reading a file never pulls in the use cases."""

from __future__ import annotations

import subprocess
import sys


def test_files_package_imports_neither_the_service_nor_the_store() -> None:
    # A fresh interpreter: in this one, other tests have imported everything already.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, callblock.files; print('\\n'.join(sorted(sys.modules)))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert "callblock.files" in loaded
    assert "callblock.service" not in loaded
    assert not [m for m in loaded if m == "callblock.store" or m.startswith("callblock.store.")]
    assert not [m for m in loaded if m.startswith("sqlalchemy")]
