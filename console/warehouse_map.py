"""Warehouses placed by longitude and latitude on a plain ECharts value grid (no base map to
vendor): the heat map's map view and a transfer plan's flows share the placing and the axes."""

from __future__ import annotations

import math
from typing import Any

from core.inventory.models import Warehouse


def map_point(warehouse: Warehouse) -> list[float] | None:
    """``[longitude, latitude]``, or None for a warehouse without coordinates."""
    if warehouse.latitude is None or warehouse.longitude is None:
        return None
    return [float(warehouse.longitude), float(warehouse.latitude)]


def _bounds(values: list[float]) -> dict[str, Any]:
    """Whole degrees around the warehouses with room for their labels (ECharts' own scale hugs the
    outermost points and clips their codes): half a degree, or 8 % of the span if more."""
    if not values:
        return {"scale": True}
    pad = max(0.5, 0.08 * (max(values) - min(values)))
    return {"min": math.floor(min(values) - pad), "max": math.ceil(max(values) + pad)}


def map_axes(points: list[list[float]]) -> dict[str, dict[str, Any]]:
    """The ``xAxis`` (longitude) and ``yAxis`` (latitude) of an option over ``points``."""
    axis = {"type": "value", "nameLocation": "middle", "splitLine": {"show": False}}
    return {
        "xAxis": {**axis, "name": "Longitude", "nameGap": 24, **_bounds([point[0] for point in points])},
        "yAxis": {**axis, "name": "Latitude", "nameGap": 34, **_bounds([point[1] for point in points])},
    }
