"""The offers' content type follows them to supply, so that permissions attached to it stay."""

from django.db import migrations

MODEL = "supplieroffer"


def _move(apps, schema_editor, source: str, target: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    alias = schema_editor.connection.alias
    if content_type.objects.using(alias).filter(app_label=target, model=MODEL).exists():
        return  # created afresh already (an empty database): nothing refers to the old one
    content_type.objects.using(alias).filter(app_label=source, model=MODEL).update(app_label=target)


def forwards(apps, schema_editor) -> None:
    _move(apps, schema_editor, "procurement", "supply")


def backwards(apps, schema_editor) -> None:
    _move(apps, schema_editor, "supply", "procurement")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('supply', '0001_initial'),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
