"""Every environment variable the settings read is in the registry of documented settings, and the
registry names none that nothing reads."""

import ast
from pathlib import Path

from django.conf import settings

from core.settings.documented import MAIN, SECTIONS, SETTINGS

ROOT = Path(settings.BASE_DIR)


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and getattr(node.value, "id", None) == "os"


def environment_reads(source: str) -> set[str]:
    """Names read through ``os.environ.get(...)``, ``os.environ[...]``, ``os.getenv(...)`` or an
    ``env_*(...)`` helper, with a literal name."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        name_node = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if (
                (isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value))
                or (
                    isinstance(func, ast.Attribute)
                    and func.attr == "getenv"
                    and getattr(func.value, "id", None) == "os"
                )
                or (isinstance(func, ast.Name) and func.id.startswith("env_"))
            ):
                name_node = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value) and isinstance(node.ctx, ast.Load):
            name_node = node.slice
        if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
            names.add(name_node.value)
    return names


def test_environment_reads_finds_every_style_of_read():
    source = (
        "import os\n"
        "a = os.environ.get('A')\nb = os.environ['B']\nc = os.getenv('C', '1')\nd = env_int('D', 3)\n"
        "os.environ['NOT_READ'] = '1'\ne = env_name\n"
    )
    assert environment_reads(source) == {"A", "B", "C", "D"}


def test_every_variable_the_settings_read_is_documented_and_every_documented_one_is_read():
    read = environment_reads((ROOT / MAIN).read_text())
    documented = {entry.name for entry in SETTINGS if entry.read_in == MAIN}

    assert read - documented == set(), "add these to core/settings/documented.py"
    assert documented - read == set(), "core/settings/main.py no longer reads these"


def test_variables_read_elsewhere_are_read_where_the_registry_says():
    for entry in SETTINGS:
        if entry.read_in != MAIN:
            assert entry.name in environment_reads((ROOT / entry.read_in).read_text()), entry


def test_registry_names_each_variable_once_in_a_known_section():
    names = [entry.name for entry in SETTINGS]
    assert len(names) == len(set(names))
    assert {entry.section for entry in SETTINGS} <= set(SECTIONS)
