"""The rule registry: one RuleSpec per RuleCode, consistent with itself and with the catalog.

Pure: no database. The catalog endpoint, policy validation and the rules reference read the same
specs, so a rule that is not registered, or a threshold without its range, fails here.
"""

from __future__ import annotations

import dataclasses

import pytest
from django.core.exceptions import ValidationError

from core.alerts.catalog import INDICATORS, Parameter, Threshold, rules_check
from core.alerts.models import RuleCode
from core.alerts.policies import policy_settings_validated
from core.alerts.rules import RULES, rule_catalog, rules_reference_markdown


def test_every_rule_code_has_one_spec_and_the_registry_agrees_with_itself() -> None:
    assert list(RULES) == RuleCode.values
    assert rules_check(RULES, RuleCode.values) == []


def test_a_code_without_a_spec_and_a_spec_without_a_code_are_reported() -> None:
    without_overstock = {code: spec for code, spec in RULES.items() if code != RuleCode.OVERSTOCK}
    assert rules_check(without_overstock, RuleCode.values) == ["rule codes without a RuleSpec: overstock"]
    extra = {**RULES, "new_rule": dataclasses.replace(RULES[RuleCode.OVERSTOCK], code="new_rule")}
    assert rules_check(extra, RuleCode.values) == ["RuleSpecs without a rule code: new_rule"]


def test_a_spec_at_odds_with_the_catalog_is_reported() -> None:
    spec = RULES[RuleCode.LAUNCH_CHECK]
    broken = dataclasses.replace(
        spec,
        indicators=(*spec.indicators, "no_such_indicator"),
        thresholds={"launch_sell_through": Threshold(1.5, 0.0001, 1.0), "on_hand": Threshold(0, -5, 5)},
        parameters={"launch_days": Parameter(400.0, "", 1, 365), "mode": Parameter("x", "", choices=("a", "b"))},
    )
    problems = rules_check({**RULES, RuleCode.LAUNCH_CHECK: broken}, RuleCode.values)
    assert problems == [
        "launch_check: reads 'no_such_indicator', which is not in INDICATORS",
        "launch_check: threshold 'launch_sell_through' defaults outside its range",
        "launch_check: parameter 'launch_days' defaults outside its range",
        "launch_check: parameter 'mode' defaults outside its choices",
    ]
    unlisted = dataclasses.replace(spec, indicators=("on_hand",))
    assert rules_check({**RULES, RuleCode.LAUNCH_CHECK: unlisted}, RuleCode.values) == [
        "launch_check: threshold 'launch_sell_through' is on an indicator the rule does not list"
    ]


def test_every_threshold_is_an_indicator_with_a_range_that_keeps_its_sign() -> None:
    for spec in RULES.values():
        for name, threshold in spec.thresholds.items():
            assert name in INDICATORS
            assert threshold.minimum < threshold.maximum
            # A decline stays a decline, a level stays above zero: no range crosses zero.
            assert threshold.minimum > 0 or threshold.maximum < 0, (spec.code, name)


def test_the_catalog_lists_every_rule_with_its_threshold_defaults() -> None:
    catalog = {entry["code"]: entry for entry in rule_catalog()}
    assert list(catalog) == RuleCode.values
    assert catalog["slow_moving"]["thresholds"] == {"wow_change": -0.40, "weighted_age_days": 90.0}
    assert catalog["overstock"]["thresholds"] == {}
    assert catalog["launch_check"]["default_bands"] == {"yellow": 0.10, "orange": 0.20, "red": 0.30}
    assert catalog["stock_out_risk"]["parameters"][0] == {
        "name": "service_level",
        "default": 0.95,
        "help": "target service level for the z x sigma safety stock",
        "minimum": 0.5,
        "maximum": 0.9999,
        "choices": (),
    }


def test_the_rules_reference_has_a_row_per_rule_with_its_thresholds_and_parameters() -> None:
    text = rules_reference_markdown()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == RuleCode.values
    slow = rows[0]
    assert "`wow_change` -0.4 (-1 to -0.0001)" in slow
    assert "`weighted_age_days` 90 (1 to 3650)" in slow
    assert "`markdown_percent` 15 (1 to 90)" in slow
    stock_out = rows[2]
    assert "`rfq_grade` red (yellow / orange / red)" in stock_out
    assert "yellow at 10 %, orange at 20 %, red at 30 %" in text


def test_policy_validation_takes_every_threshold_within_its_range_and_refuses_it_outside() -> None:
    for spec in RULES.values():
        for name, threshold in spec.thresholds.items():
            for value in (threshold.minimum, threshold.default, threshold.maximum):
                policy_settings_validated(spec.code, {"thresholds": {name: value}})
            for value in (threshold.minimum - 0.5, threshold.maximum + 0.5):
                with pytest.raises(ValidationError) as refused:
                    policy_settings_validated(spec.code, {"thresholds": {name: value}})
                low, high = f"{threshold.minimum:g}", f"{threshold.maximum:g}"
                assert refused.value.message_dict == {f"thresholds.{name}": [f"Between {low} and {high}."]}
