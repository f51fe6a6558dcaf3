"""``manage.py docs_reference [--check]``: write the manual's generated pages from the registries."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.reference.generated import GENERATED, reference_stale, reference_write


class Command(BaseCommand):
    help = "Write docs/reference/*.md (and .env.example) from the registries; --check only compares."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; exit non-zero naming each generated file that differs from its registry",
        )

    def handle(self, *args: object, check: bool = False, **options: object) -> None:
        if check:
            stale = reference_stale()
            if stale:
                raise CommandError(
                    "Generated reference out of date: " + ", ".join(stale) + ". Run `make docs` and commit the result."
                )
            self.stdout.write(f"{len(GENERATED)} generated files up to date.")
            return
        changed = reference_write()
        for name in changed:
            self.stdout.write(f"wrote {name}")
        if not changed:
            self.stdout.write(f"{len(GENERATED)} generated files up to date.")
