from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0007_reading_forecast_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="dismissed_note",
            field=models.CharField(blank=True, db_default="", default="", max_length=500),
        ),
    ]
