"""The words the parts of the hotline share about the utility's world, as enums with no database or I/O behind
them: what a call is about, what an outage is and where, who may do what, and the languages spoken. The database
stores their values (crm/models.py); the pure rules, the IVR, the ACD and the pages use the same members."""

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


class Intent(StrEnum):
    """What a call is about (诉求). The IVR sets it from the caller's menu choices, the ACD routes by it
    (cti/acd/routing.toml has a workflow per intent), and the agent's wrap-up records it as the call's
    disposition."""

    GENERAL = "general"  # 0, or no menu chosen yet: the general workflow
    BILLING = "billing"  # 电费
    OUTAGE = "outage"  # 停电
    REPAIR = "repair"  # 故障报修
    BUSINESS = "business"  # 业扩报装 (a new connection)
    COMPLAINT = "complaint"  # 投诉
    CONSULTATION = "consultation"  # 咨询
    SUGGESTION = "suggestion"  # 建议


# What an agent may record a call as: every intent but the general one.
DISPOSITIONS = tuple(intent for intent in Intent if intent is not Intent.GENERAL)

# The languages the prompts, the notices and the pages speak; the first is the default.
LANGUAGES = ("zh", "en")
