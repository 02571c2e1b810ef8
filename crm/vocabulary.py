"""The words the parts of the hotline share about the utility's world, as enums with no database or I/O behind
them: what an outage is and where, and who may do what. The database stores their values (crm/models.py), the
pure rules (work_orders/rules.py, campaigns/rules.py) and the pages use the same members."""

from __future__ import annotations

from enum import StrEnum


class OutageKind(StrEnum):
    """Why the power is off (停电原因), as the IVR tells it."""

    PLANNED_MAINTENANCE = "maintenance"  # 计划检修
    GRID_CONSTRUCTION = "construction"  # 电网建设改造
    NEW_CONNECTION = "connection"  # 新用户接电
    LOAD_SHEDDING = "load_shedding"  # 有序用电 / 限电
    FAULT = "fault"  # 故障停电


class OutageScope(StrEnum):
    """Where an outage is: a whole substation, one feeder, or a list of transformer areas."""

    SUBSTATION = "substation"
    FEEDER = "feeder"
    TRANSFORMER_AREAS = "areas"


class Role(StrEnum):
    """What a user of the pages and the API may do (see cti/web/auth.py for who sees what)."""

    AGENT = "agent"  # 座席员: their own calls and customers
    SUPERVISOR = "supervisor"  # 班长: the whole floor, recordings, assessments
    ADMIN = "admin"  # users and configuration
    DISPATCHER = "dispatcher"  # 服调: the city service dispatch, passes work orders to county companies
    COUNTY = "county"  # a county company's service staff: contact, handle and report back on its orders
