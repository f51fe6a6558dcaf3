"""The generated pages of the manual are what their registries write."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.reference.generated import GENERATED


def test_generated_reference_is_up_to_date():
    out = StringIO()

    call_command("docs_reference", "--check", stdout=out)

    assert f"{len(GENERATED)} generated files up to date" in out.getvalue()


def test_check_names_each_stale_file_and_says_how_to_fix_it(tmp_path):
    first, second = GENERATED[0][0], GENERATED[1][0]
    with override_settings(BASE_DIR=tmp_path):
        call_command("docs_reference", stdout=StringIO())  # writes every page into tmp_path
        (tmp_path / first).write_text("edited by hand\n")
        (tmp_path / second).unlink()

        with pytest.raises(CommandError) as refused:
            call_command("docs_reference", "--check", stdout=StringIO())

    message = str(refused.value)
    assert first in message
    assert second in message
    assert "run `make docs`" in message.lower()
    assert all(name not in message for name, _ in GENERATED[2:])


def test_writing_again_changes_nothing(tmp_path):
    with override_settings(BASE_DIR=tmp_path):
        call_command("docs_reference", stdout=StringIO())
        out = StringIO()
        call_command("docs_reference", stdout=out)

    assert "wrote" not in out.getvalue()
