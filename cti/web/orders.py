"""Work orders (工单) in the pages and the API: the dispatcher's list, an order's detail and history, creating an
order from a call, and each step of the dispatch flow by the role allowed to take it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from crm.models import Role
from cti.web.auth import requires

bp = Blueprint("orders", __name__)

EVERYONE_WITH_ORDERS = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.DISPATCHER, Role.COUNTY)


@bp.get("/orders")
@requires(*EVERYONE_WITH_ORDERS)
def list_page() -> Any:
    return render_template("orders.html")
