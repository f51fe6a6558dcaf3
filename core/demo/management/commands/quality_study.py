"""``manage.py quality_study``: the warnings measured (issue 18), on a study tenant with a simulated
planner and on a demo tenant (core/demo/quality_study.py, core/demo/quality_study_run.py).

It lives with the demo, not in core/quality: it seeds data, and the quality layer may not import
the demo's generator."""

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from core.demo.loading import demo_dataset_present
from core.demo.quality_study import (
    STUDY_SCALES,
    STUDY_SEED,
    STUDY_TENANT_SLUG,
    WARM_UP_DAYS,
    quality_study_plan,
    quality_study_seed,
)
from core.demo.quality_study_run import demo_default_figures, quality_study_measure
from core.demo.synthetic import SCALES
from tenants.models import Tenant

DEMO_TENANT_SLUG = "quality-demo"


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None


class _Bars:
    """One tqdm bar per stage on stderr, as the replay tells its days."""

    def __init__(self, *, quiet: bool) -> None:
        self.quiet, self.bar, self.stage = quiet, None, None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.stage != stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="day", file=sys.stderr, disable=self.quiet, mininterval=0.5)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Measure the warnings: seed a study tenant (the demo's generator with another seed, a category "
        "replenished deep and late orders) and replay the default policy; let a simulated planner judge "
        "the first half's alerts, run the tuner on them and replay the second half with the default and "
        "the tuned policies; and replay the default policy on a demo tenant. Table on stdout, progress on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=list(STUDY_SCALES), default="small", help="The study tenant's size.")
        parser.add_argument("--seed", type=int, default=STUDY_SEED, help=f"The study's seed (default {STUDY_SEED}).")
        parser.add_argument("--tenant", default=STUDY_TENANT_SLUG, help="The study tenant's slug (a new one).")
        parser.add_argument(
            "--today", type=_iso_date, help="YYYY-MM-DD; the ledgers end the day before (default today)."
        )
        parser.add_argument(
            "--demo-scale",
            choices=[*SCALES, "none"],
            default="medium",
            help="Scale of the demo tenant seeded with seed_demo when --demo-tenant does not hold demo data yet; "
            "none: no demo figures.",
        )
        parser.add_argument("--demo-tenant", default=DEMO_TENANT_SLUG, help="The demo tenant (taken if seeded).")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON instead of a table.")

    def handle(self, *args: object, **options: object) -> None:
        quiet = options["verbosity"] == 0
        today = options["today"] or datetime.now(UTC).date()
        bars = _Bars(quiet=quiet)
        try:
            figures = {"study": self._study(options, today, bars, quiet)}
            if options["demo_scale"] != "none":
                figures["demo"] = self._demo(options, today, bars, quiet)
        except (ValidationError, ValueError) as exc:
            message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            raise CommandError(message) from exc
        finally:
            bars.close()
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2, default=str))
        else:
            self.stdout.write(study_table(figures))

    def _study(self, options: dict, today: date, bars: _Bars, quiet: bool) -> dict:
        scale, seed = options["scale"], options["seed"]
        started = time.monotonic()
        plan = quality_study_plan(scale=scale, seed=seed, today=today)
        ledger = tqdm(total=plan.days, desc=f"seeding {options['tenant']}", unit="day", file=sys.stderr, disable=quiet)
        try:
            tenant, seeded = quality_study_seed(
                slug=options["tenant"], plan=plan, scale=scale, on_batch=lambda days, result: ledger.update(days)
            )
        finally:
            ledger.close()
        seed_seconds = round(time.monotonic() - started, 1)
        figures = quality_study_measure(tenant=tenant, plan=plan, progress=bars)
        return {
            "tenant": tenant.slug,
            "scale": scale,
            "seed": seed,
            "seeded": {"now": seeded, "seconds": seed_seconds if seeded else None},
            **figures,
        }

    def _demo(self, options: dict, today: date, bars: _Bars, quiet: bool) -> dict:
        slug = options["demo_tenant"]
        tenant = Tenant.objects.filter(slug=slug).first()
        seed_seconds = None
        if tenant is None or not demo_dataset_present(tenant=tenant):
            started = time.monotonic()
            call_command(
                "seed_demo",
                scale=options["demo_scale"],
                tenant=slug,
                today=today,
                verbosity=0 if quiet else 1,
                stdout=sys.stderr,
            )
            seed_seconds = round(time.monotonic() - started, 1)
            tenant = Tenant.objects.get(slug=slug)
        figures = demo_default_figures(tenant=tenant, warm_up=WARM_UP_DAYS, progress=bars)
        return {"seeded": {"now": seed_seconds is not None, "seconds": seed_seconds}, **figures}


def _number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:g}"
    return str(value)


def study_table(figures: dict) -> str:
    """The figures as plain text: per replay the stock-out warnings' headline and rules, the planner's
    category, the tuning's changes and the goals."""
    lines: list[str] = []
    columns = ("alerts", "precision", "episodes", "warned", "recall", "lead_time_median", "lead_time_p10")
    header = f"  {'':34}" + "".join(f"{name:>17}" for name in columns)
    study = figures["study"]
    lines.append(
        f"Study tenant {study['tenant']} (scale {study['scale']}, seed {study['seed']}, "
        f"{study['positions']} positions), period {study['period']['from']} .. {study['period']['to']}, "
        f"halves split after {study['period']['first_half_to']}"
    )
    lines.append(
        f"  planner: {study['planner']['category']} holds <= {study['planner']['cover_days']:g} days of cover fine"
    )
    lines.append("Stock-out warnings (stock_out_risk, promotion_shortfall) against every stock-out episode:")
    lines.append(header)
    for name, run in study["replays"].items():
        lines.append(_row(name, run["stock_out"], columns))
        for rule, rule_figures in run["stock_out"]["by_rule"].items():
            lines.append(_row(f"  {rule}", rule_figures, columns))
    lines.append("Planner's category (alerts the planner calls false / all alerts there):")
    for name, run in study["replays"].items():
        category = run["planner_category"]
        lines.append(
            f"  {name:34}{category['planner_false_alarms']:>6} / {category['alerts']:<6}"
            f" by rule {category['planner_false_alarms_by_rule']}"
        )
    tuning = study["tuning"]
    verdicts = tuning["verdicts"]
    lines.append(
        f"Tuner on the first half: {verdicts['verdicts']} verdicts of the planner ({verdicts['false_alarm']} false "
        f"alarm, {verdicts['confirmed']} confirmed); {tuning['note']}"
    )
    for step in tuning["applied"]:
        lines.append(
            f"  {step['run_on']} {step['rule']} {step['scope']}: {step['setting']} {step['before']:g} -> "
            f"{step['after']:g} ({step['direction']}, precision mean {step['precision_mean']})"
        )
    if tuning["refused"]:
        lines.append(f"  refused by the shadow replay: {len(tuning['refused'])} steps")
    lines.append("Goals:")
    lines += [_goal_line(goal) for goal in study["goals"]]
    demo = figures.get("demo")
    if demo is not None:
        lines.append(
            f"Demo tenant {demo['tenant']} ({demo['positions']} positions, {demo['policies']}), period "
            f"{demo['period']['day_from']} .. {demo['period']['day_to']}, replayed in {demo['seconds']} s"
            + (f", seeded in {demo['seeded']['seconds']} s" if demo["seeded"]["now"] else "")
        )
        lines.append(header)
        lines.append(_row("default policy", demo["stock_out"], columns))
        for rule, rule_figures in demo["stock_out"]["by_rule"].items():
            lines.append(_row(f"  {rule}", rule_figures, columns))
        lines += [_goal_line(goal) for goal in demo["goals"]]
    return "\n".join(lines)


def _row(name: str, figures: dict, columns: tuple[str, ...]) -> str:
    return f"  {name:34}" + "".join(f"{_number(figures.get(key)):>17}" for key in columns)


def _goal_line(goal: dict) -> str:
    met = {True: "met", False: "MISSED", None: "no figure"}[goal["met"]]
    return f"  {goal['goal']}: {_number(goal['got'])} (goal {goal['target']}): {met}"
