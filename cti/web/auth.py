"""Logging in and out, who may see what, and the throttle on wrong passwords.

Roles (crm.vocabulary.Role): an agent sees only their own calls and customers; a supervisor sees the whole floor;
dispatchers and county staff see work orders. Every page and API call but the login needs a session; every
state-changing request carries the session's CSRF token (a form field, or the X-CSRFToken header)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import redis
from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect, generate_csrf

from crm.users import Identity
from crm.vocabulary import Role
from cti.web.wiring import services

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()
login_manager = LoginManager()

# Wrong passwords allowed per login, and per client address, within the window before logging in is refused.
FAILURES_PER_LOGIN = 5
FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW_S = 15 * 60

F = TypeVar("F", bound=Callable[..., Any])


class WebUser(UserMixin):  # type: ignore[misc]
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def get_id(self) -> str:
        return str(self.identity.user_id)

    @property
    def role(self) -> Role:
        return self.identity.role


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "strong"


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load(user_id: str) -> WebUser | None:
    identity = services().users.get(int(user_id)) if user_id.isdigit() else None
    return WebUser(identity) if identity else None


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]
def _unauthorized() -> Any:
    if request.path.startswith("/api/"):
        return jsonify(error="unauthorized", detail="log in first"), 401
    return redirect(url_for("auth.login_page", next=request.path))


def me() -> Identity:
    """The logged-in user (only inside a view protected by `requires`)."""
    return cast(WebUser, current_user).identity


def requires(*roles: Role) -> Callable[[F], F]:
    """A view for logged-in users of these roles (any role if none is named); others get 401 or 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthorized()
            if roles and me().role not in roles:
                abort(403, "your role may not do this")
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


class Throttle:
    """Counts wrong passwords in Redis (keys web:loginfail:<login> and web:loginfail-ip:<address>, expiring after
    the window). Without Redis nobody can log in: a throttle that cannot count must not let guesses through."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def _keys(self, login: str, address: str) -> tuple[str, str]:
        return f"web:loginfail:{login.lower()[:64]}", f"web:loginfail-ip:{address}"

    def blocked(self, login: str, address: str) -> int:
        """Seconds until this login may be tried again from this address; 0 if it may be now."""
        by_login, by_address = self._keys(login, address)
        with self.r.pipeline() as pipe:
            pipe.get(by_login)
            pipe.get(by_address)
            pipe.ttl(by_login)
            pipe.ttl(by_address)
            n_login, n_address, ttl_login, ttl_address = pipe.execute()
        waits = []
        if int(n_login or 0) >= FAILURES_PER_LOGIN:
            waits.append(max(int(ttl_login), 1))
        if int(n_address or 0) >= FAILURES_PER_ADDRESS:
            waits.append(max(int(ttl_address), 1))
        return max(waits, default=0)

    def failed(self, login: str, address: str) -> None:
        with self.r.pipeline() as pipe:
            for key in self._keys(login, address):
                pipe.incr(key)
                pipe.expire(key, FAILURE_WINDOW_S, nx=True)
            pipe.execute()

    def succeeded(self, login: str, address: str) -> None:
        self.r.delete(self._keys(login, address)[0])


class LoginRefused(Exception):  # noqa: N818 (an answer to give, not a fault)
    """`detail` is the API's answer; `reason` (wrong, throttled, unavailable) is what the login page says, in the
    page's language (the words login_refused.<reason>)."""

    def __init__(self, status: int, reason: str, detail: str, retry_after: int = 0) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


def _log_in(login: str, password: str) -> Identity:
    address = request.remote_addr or "unknown"
    throttle = Throttle(services().redis)
    try:
        wait = throttle.blocked(login, address)
        if wait:
            raise LoginRefused(429, "throttled", f"too many wrong passwords; try again in {wait} s", wait)
        identity = services().users.check(login, password) if login and password else None
        if identity is None:
            throttle.failed(login, address)
            raise LoginRefused(401, "wrong", "wrong login or password")
        throttle.succeeded(login, address)
    except redis.RedisError as exc:
        raise LoginRefused(
            503, "unavailable", "logging in is unavailable for a moment (the session store does not answer)"
        ) from exc
    login_user(WebUser(identity))
    return identity


def home_of(identity: Identity) -> str:
    if identity.role is Role.AGENT:
        return url_for("desk.page")
    if identity.role in (Role.DISPATCHER, Role.COUNTY):
        return url_for("orders.list_page")
    return url_for("monitor.page")


@bp.get("/login")
def login_page() -> Any:
    return render_template("login.html", refused=None)


@bp.post("/login")
def login_form() -> Any:
    try:
        identity = _log_in(request.form.get("login", "").strip(), request.form.get("password", ""))
    except LoginRefused as refused:
        return render_template("login.html", refused=refused), refused.status
    target = request.args.get("next", "")
    # Only a path on this site: an open redirect would let a link send a fresh login elsewhere.
    if not target.startswith("/") or target.startswith("//"):
        target = home_of(identity)
    return redirect(target)


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    if request.path.startswith("/api/") or request.is_json:
        return jsonify(ok=True)
    return redirect(url_for("auth.login_page"))


@bp.get("/")
@requires()
def home() -> Any:
    return redirect(home_of(me()))


@bp.get("/api/session")
def session_info() -> Any:
    """The CSRF token for this session (an API client needs it to log in), and who is logged in, if anyone."""
    who = None
    if current_user.is_authenticated:
        identity = me()
        who = {
            "login": identity.login,
            "name": identity.name,
            "role": identity.role.value,
            "agent": identity.agent_code,
            "county_company_id": identity.county_company_id,
        }
    return jsonify(csrf_token=generate_csrf(), user=who)


@bp.post("/api/session")
def session_login() -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, 'send JSON: {"login": "...", "password": "..."}')
    try:
        identity = _log_in(str(body.get("login", "")).strip(), str(body.get("password", "")))
    except LoginRefused as refused:
        response = jsonify(error="login_refused", detail=refused.detail)
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
        return response, refused.status
    return jsonify(login=identity.login, role=identity.role.value, csrf_token=generate_csrf())


@bp.delete("/api/session")
def session_logout() -> Any:
    logout_user()
    return jsonify(ok=True)
