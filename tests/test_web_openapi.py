"""The OpenAPI description names exactly the API's routes and methods."""

from __future__ import annotations

import re
from pathlib import Path

from cti.web import create_app
from cti.web.openapi import document
from cti.web.wiring import build
from hotline.config import load


def test_the_description_names_every_api_route_and_nothing_else(tmp_path: Path) -> None:
    config = load(env={"HOTLINE_PATHS_STATE_DIR": str(tmp_path)})
    app = create_app(config, build(config))
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(m.lower(), path) for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}
    described = {(method, path) for path, ops in document()["paths"].items() for method in ops}
    assert routes == described
    assert document()["openapi"].startswith("3.")


def test_every_state_changing_operation_asks_for_the_csrf_header(tmp_path: Path) -> None:
    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            if method != "get":
                names = [p["name"] for p in op.get("parameters", [])]
                assert "X-CSRFToken" in names, (method, path)
