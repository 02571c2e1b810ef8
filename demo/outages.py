"""The demo city's outages: an active fault now, planned maintenance, grid construction, a new connection and load
shedding ahead, and restored outages of the past weeks, placed on the grid so that the demo callers meet them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.models import Outage, OutageArea
from crm.vocabulary import OutageKind, OutageScope
from demo.city import DemoCity


@dataclass(frozen=True)
class DemoOutages:
    """Where the seed put its outages (grid indices, 0-based), for the work orders and demo callers after it."""

    fault: int
    fault_feeder: int
    maintenance_feeder: int
    maintenance_substation: int
    construction_areas: list[int]


def write_outages(city: DemoCity) -> DemoOutages:
    """One active fault, planned work of every kind in the days ahead, and six weeks of restored history."""
    t = city.topology
    feeders = len(t.feeder_substation)
    substations = len(t.substation_names)
    fault_feeder = 1
    maintenance_feeder = 2
    maintenance_substation = 3
    # Transformer areas on feeders 4 and 5 (area index a sits on feeder a % feeders).
    construction_areas = [4, 4 + feeders]
    connection_area = 5
    shedding_feeder = 6
    assert substations > maintenance_substation and feeders > shedding_feeder
    now = city.now
    rows: list[tuple[object, ...]] = []

    def add(
        kind: OutageKind,
        scope: OutageScope,
        where: int | None,
        starts: datetime,
        expected: datetime,
        restored: datetime | None,
        reason: str,
    ) -> int:
        substation = where + 1 if scope is OutageScope.SUBSTATION and where is not None else None
        feeder = where + 1 if scope is OutageScope.FEEDER and where is not None else None
        rows.append(
            (len(rows) + 1, kind.value, scope.value, substation, feeder, starts, expected, restored, reason, now)
        )
        return len(rows)

    fault = add(
        OutageKind.FAULT,
        OutageScope.FEEDER,
        fault_feeder,
        now - timedelta(minutes=40),
        now + timedelta(hours=2),
        None,
        f"{t.feeder_names[fault_feeder]}发生故障，抢修人员正在全力抢修",
    )
    add(
        OutageKind.PLANNED_MAINTENANCE,
        OutageScope.FEEDER,
        maintenance_feeder,
        city.local(1, 8),
        city.local(1, 17),
        None,
        f"{t.feeder_names[maintenance_feeder]}计划检修",
    )
    add(
        OutageKind.PLANNED_MAINTENANCE,
        OutageScope.SUBSTATION,
        maintenance_substation,
        city.local(3, 7),
        city.local(3, 15),
        None,
        f"{t.substation_names[maintenance_substation]}设备年度检修",
    )
    construction = add(
        OutageKind.GRID_CONSTRUCTION,
        OutageScope.TRANSFORMER_AREAS,
        None,
        city.local(2, 9),
        city.local(2, 16),
        None,
        "配电网升级改造施工",
    )
    connection = add(
        OutageKind.NEW_CONNECTION,
        OutageScope.TRANSFORMER_AREAS,
        None,
        city.local(1, 14),
        city.local(1, 16),
        None,
        "新用户接入电网施工",
    )
    add(
        OutageKind.LOAD_SHEDDING,
        OutageScope.FEEDER,
        shedding_feeder,
        city.local(4, 10),
        city.local(4, 12),
        None,
        "电力供应紧张，执行有序用电方案",
    )
    for n in range(6):
        starts = city.local(-7 * (n + 1), 9)
        kind = (OutageKind.FAULT, OutageKind.PLANNED_MAINTENANCE)[n % 2]
        add(
            kind,
            OutageScope.FEEDER,
            (n * 5 + 3) % feeders,
            starts,
            starts + timedelta(hours=4),
            starts + timedelta(hours=3, minutes=20),
            "线路故障抢修" if kind is OutageKind.FAULT else "计划检修",
        )
    city.loader.write(
        Outage,
        (
            "id",
            "kind",
            "scope",
            "substation_id",
            "feeder_id",
            "starts_at",
            "expected_restoration_at",
            "restored_at",
            "reason",
            "created_at",
        ),
        rows,
    )
    area_rows = [(construction, a + 1) for a in construction_areas] + [(connection, connection_area + 1)]
    city.loader.write(OutageArea, ("outage_id", "transformer_area_id"), area_rows)
    return DemoOutages(fault, fault_feeder, maintenance_feeder, maintenance_substation, construction_areas)
