"""The agent desktop, the supervisor monitor and their JSON API: a Flask application built by `create_app` over the
services cti/web/wiring.py builds."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from cti.web import api, assessment, auth, campaigns, desk, i18n, live, monitor, orders
from hotline.config import Config

if TYPE_CHECKING:
    from cti.web.wiring import WebServices


def create_app(config: Config, services: WebServices) -> Flask:
    """The web application over one hotline's configuration and the services built for it (cti.web.wiring.build);
    the views take every service from the application, so that tests can build theirs on the test bed's parts."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secrets.web_secret_key,
        SESSION_COOKIE_NAME="hotline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(config.web.secure_cookies),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # A token lives as long as the session: an agent's page stays open for a whole shift.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["hotline"] = services
    auth.init_app(app)
    i18n.init_app(app)
    for module in (auth, desk, monitor, assessment, api, orders, campaigns, live):
        app.register_blueprint(module.bp)
    live.init_app(app, services)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        # The API answers in JSON, with what went wrong in words; pages get Flask's plain error page.
        if request.path.startswith("/api/"):
            return jsonify(error=exc.name.lower().replace(" ", "_"), detail=exc.description), exc.code or 500
        return exc

    @app.after_request
    def security_headers(response: object) -> object:
        headers = response.headers  # type: ignore[attr-defined]
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        return response

    return app
