"""The benchmarks import the code they measure; a name that moved must move there too, or `make
bench` dies at its first line. Nothing else in the suite runs them."""

import importlib
import pkgutil

import pytest

import bench

BENCH_MODULES = sorted(info.name for info in pkgutil.iter_modules(bench.__path__))


def test_there_are_benchmark_modules():
    expected = {
        "api_load",
        "console",
        "evaluation",
        "forecast",
        "ingestion",
        "run",
        "transfer_plan",
        "warnings_backtest",
        "webhooks",
    }
    assert expected <= set(BENCH_MODULES)


@pytest.mark.parametrize("name", BENCH_MODULES)
def test_each_benchmark_module_imports(name):
    importlib.import_module(f"bench.{name}")
