"""Scraping /metrics as Prometheus does, and reading a series out of what it answered."""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families


@dataclass
class Scrape:
    """The samples of one scrape, parsed with prometheus_client's own parser."""

    families: dict  # family name -> Metric (its type, its samples)

    def value(self, sample: str, **labels: str) -> float:
        """The sum of ``sample``'s values over the series whose labels include ``labels`` (0 if none)."""
        return sum(
            s.value
            for family in self.families.values()
            for s in family.samples
            if s.name == sample and labels.items() <= s.labels.items()
        )

    def series(self, sample: str) -> list[dict]:
        """The label sets of ``sample``'s series."""
        return [s.labels for family in self.families.values() for s in family.samples if s.name == sample]

    def type_of(self, family: str) -> str:
        return self.families[family].type


def scrape(client: Client | None = None, **request: str) -> Scrape:
    """GET /metrics (from loopback unless ``REMOTE_ADDR`` says otherwise); it must answer 200."""
    response = (client or Client()).get("/metrics", **{"REMOTE_ADDR": "127.0.0.1", **request})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    families = {family.name: family for family in text_string_to_metric_families(response.content.decode())}
    return Scrape(families=families)
