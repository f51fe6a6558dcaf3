from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0009_dismissed_reason_to_note"),
    ]

    operations = [
        migrations.AlterField(
            model_name="alert",
            name="dismissed_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("false_alarm", "False alarm: the position needed nothing"),
                    ("too_early", "Right, but too early to act on"),
                    ("too_late", "Right, but too late to act on"),
                    ("duplicate", "Another alert says the same"),
                    ("other", "Another reason, said in the note"),
                ],
                default="",
                max_length=16,
            ),
        ),
    ]
