from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "core.reference"
    label = "reference"
