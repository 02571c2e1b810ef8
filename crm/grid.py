"""Which places an outage reaches, and whether it is still in effect: the one statement of the rule, as SQL
conditions on the outages table, for every part that asks. The IVR's outage information (crm/services.py), the
outage a repair order falls under (work_orders/), the callees of a notice campaign (campaigns/) and the planned
outages a supervisor can announce (work_orders/lookups.py) all use these.

The rule. An outage on a substation reaches all of its feeders; one on a feeder, all of that feeder's transformer
areas; one on listed transformer areas, those areas. It is in effect from its start until a crew marks it
restored, except planned work (every kind but a fault), which ends on schedule: past its expected restoration
nobody marks it restored, and it is over.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select

from crm.models import Feeder, Outage, OutageArea, TransformerArea
from crm.vocabulary import OutageKind, OutageScope

Ids = Iterable[int] | Select[Any]


def reaching(
    substations: Ids | None = None, feeders: Ids | None = None, areas: Ids | None = None
) -> ColumnElement[bool]:
    """Outages that reach any of these places: substation, feeder and transformer-area ids (a list, or a query of
    ids). A level left out (None) is not looked at."""
    reaches: list[ColumnElement[bool]] = []
    if substations is not None:
        reaches.append(and_(Outage.scope == OutageScope.SUBSTATION, Outage.substation_id.in_(substations)))
    if feeders is not None:
        reaches.append(and_(Outage.scope == OutageScope.FEEDER, Outage.feeder_id.in_(feeders)))
    if areas is not None:
        reaches.append(
            and_(
                Outage.scope == OutageScope.TRANSFORMER_AREAS,
                exists().where(OutageArea.outage_id == Outage.id, OutageArea.transformer_area_id.in_(areas)),
            )
        )
    return or_(*reaches) if reaches else false()


def not_over(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """Outages not restored and, for planned work, not past their expected restoration at `now`."""
    return and_(
        Outage.restored_at.is_(None),
        or_(
            Outage.kind == OutageKind.FAULT,
            Outage.expected_restoration_at.is_(None),
            Outage.expected_restoration_at > now,
        ),
    )


def in_effect(
    now: datetime | ColumnElement[datetime], until: datetime | ColumnElement[datetime] | None = None
) -> ColumnElement[bool]:
    """Outages that have started by `until` (by `now` if not given: in effect now) and are not over at `now`. An
    `until` later than `now` takes in the outages announced to start before it (the IVR tells of those too)."""
    return and_(not_over(now), Outage.starts_at <= (now if until is None else until))


def areas_reached(outage: Outage) -> Select[int]:
    """The ids of the transformer areas `outage` reaches: the rule read the other way, from the outage to places."""
    if outage.scope is OutageScope.SUBSTATION:
        return (
            select(TransformerArea.id)
            .join(Feeder, Feeder.id == TransformerArea.feeder_id)
            .where(Feeder.substation_id == outage.substation_id)
        )
    if outage.scope is OutageScope.FEEDER:
        return select(TransformerArea.id).where(TransformerArea.feeder_id == outage.feeder_id)
    return select(OutageArea.transformer_area_id).where(OutageArea.outage_id == outage.id)


def feeders_reached(outage: Outage) -> Select[int]:
    """The ids of the feeders `outage` is on: its feeder, its substation's feeders, or its transformer areas'
    feeders (the rule read from the outage to places, as `areas_reached`)."""
    if outage.scope is OutageScope.FEEDER:
        return select(Feeder.id).where(Feeder.id == outage.feeder_id)
    if outage.scope is OutageScope.SUBSTATION:
        return select(Feeder.id).where(Feeder.substation_id == outage.substation_id)
    return (
        select(TransformerArea.feeder_id)
        .join(OutageArea, OutageArea.transformer_area_id == TransformerArea.id)
        .where(OutageArea.outage_id == outage.id)
    )
