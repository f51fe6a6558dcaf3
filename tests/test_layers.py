"""The layers contract (pyproject.toml, [tool.importlinter]) holds, and an import against it fails it.

Each case runs ``lint-imports`` over a copy of the packages with one bad import added, as
``make lint`` runs it over the tree.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "tenants", "api", "workers", "console")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", "pyproject.toml", "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The packages and the contract, without caches."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_tree_keeps_the_contracts(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "broken"),
    [
        # inventory below procurement
        ("core/inventory/ingestion.py", "import core.procurement.receiving", "core.inventory is not allowed to import"),
        # a deferred import counts as much as one at the top
        (
            "core/inventory/grants.py",
            "def _hidden():\n    from core.supply.models import SupplierOffer\n\n    return SupplierOffer",
            "core.inventory is not allowed to import",
        ),
        # the domain never imports workers: tasks are sent by name
        ("core/task_requests.py", "import workers.app", "is not allowed to import workers"),
        # procurement and transfers are independent of each other
        ("core/procurement/awards.py", "import core.transfers.models", "core.procurement is not allowed to import"),
        # webhooks know the kernel and tenants only
        ("core/webhooks/relay.py", "import core.inventory.grants", "core.webhooks is not allowed to import"),
    ],
)
def test_an_import_against_a_layer_breaks_the_contract(tree, module, bad_import, broken):
    path = tree / module
    path.write_text(path.read_text() + "\n\n" + bad_import + "\n")

    result = lint_imports(tree)

    assert result.returncode != 0
    assert "1 broken" in result.stdout or "2 broken" in result.stdout
    assert broken in result.stdout, result.stdout
