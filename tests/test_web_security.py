"""The pages' and API's locks: nothing without a login, agents see only their own calls and customers, every
state-changing request carries the CSRF token, wrong passwords are throttled, a dead Redis refuses logins
clearly. Driven through Flask's test client on the sandbox's real database and Redis, and the WebSocket through
the real gunicorn server that `Hotline` started."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from crm.models import Account, Agent, Contact
from crm.users import Users
from crm.vocabulary import Role
from cti.web import create_app
from cti.web.auth import FAILURES_PER_LOGIN
from cti.web.wiring import WebServices, build
from testbed.sandbox import free_port
from tests.conftest import Testbed, TestUtility, WebLogins, new_caller_number

_serial = itertools.count(1)


@pytest.fixture(scope="module")
def backend(testbed: Testbed) -> Iterator[WebServices]:
    b = build(testbed.config)
    yield b
    b.close()


@pytest.fixture(scope="module")
def app(testbed: Testbed, backend: WebServices) -> Flask:
    return create_app(testbed.config, backend)


def csrf_token(client: FlaskClient) -> str:
    token = client.get("/api/session").get_json()["csrf_token"]
    assert isinstance(token, str) and token
    return token


def log_in(client: FlaskClient, login: str, password: str) -> Any:
    return client.post(
        "/api/session", json={"login": login, "password": password}, headers={"X-CSRFToken": csrf_token(client)}
    )


@pytest.fixture
def agent_client(app: Flask, web_logins: WebLogins) -> FlaskClient:
    client = app.test_client()
    assert log_in(client, web_logins.agents[0], web_logins.password).status_code == 200
    return client


def _placeholder(rule: Any) -> str:
    return re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule)


# The login itself, the stylesheet and scripts, and logging out (which ends whatever session there is, or none).
OPEN = {"/login", "/api/session", "/static/<path:filename>", "/logout"}


def test_every_page_and_api_call_refuses_a_visitor_who_has_not_logged_in(app: Flask) -> None:
    client = app.test_client()
    token = csrf_token(client)
    checked = 0
    rules = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in OPEN or rule.websocket:
            continue
        rules.add(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            path = _placeholder(rule)
            response = client.open(path, method=method, headers={"X-CSRFToken": token}, json={})
            if path.startswith("/api/"):
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.get_json()["error"] == "unauthorized"
            else:
                assert response.status_code == 302 and "/login" in response.headers["Location"], (method, path)
            checked += 1
    assert checked >= 40
    # The outbound campaigns' pages and API are among them.
    assert {
        "/campaigns",
        "/tasks",
        "/api/campaigns",
        "/api/campaigns/<int:campaign_id>",
        "/api/campaigns/<int:campaign_id>/<action>",
        "/api/tasks",
        "/api/tasks/<int:task_id>/done",
        "/api/customers/<int:customer_id>/opt-out",
    } <= rules


def test_the_live_socket_refuses_a_visitor_who_has_not_logged_in(testbed: Testbed) -> None:
    # The synchronous client: a browser test earlier in the session may hold an event loop in this thread.
    url = f"ws://{testbed.config.web.host}:{testbed.config.web.port}/ws"
    with connect(url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_an_agent_may_not_open_the_supervisors_pages(agent_client: FlaskClient) -> None:
    assert agent_client.get("/monitor").status_code == 403
    assert agent_client.get("/api/monitor").status_code == 403
    assert agent_client.get("/api/assessment").status_code == 403
    assert agent_client.get("/api/recordings/1").status_code == 403
    assert agent_client.get("/campaigns").status_code == 403
    assert agent_client.get("/api/campaigns").status_code == 403
    assert agent_client.get("/api/campaigns/1").status_code == 403
    token = csrf_token(agent_client)
    refused = agent_client.post("/api/agents/A1001/logout", json={}, headers={"X-CSRFToken": token})
    assert refused.status_code == 403


def _contact_of(backend: WebServices, agent_login: str, utility: TestUtility) -> tuple[int, int]:
    """A finished call from a new customer, taken by this agent: (contact id, customer id)."""
    customer = utility.customer(due_fen=12_300)[0]
    with backend.sessions.begin() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.code == agent_login))
        account_id = session.scalar(select(Account.id).where(Account.number == customer.account_number))
        contact = Contact(
            uniqueid=f"web-sec-{next(_serial)}-{new_caller_number()}",
            caller_number=customer.phone,
            started_at=datetime.now(UTC),
            ivr_path=[],
            account_id=account_id,
            agent_id=agent_id,
            agent_answered_at=datetime.now(UTC),
        )
        session.add(contact)
        session.flush()
        return contact.id, customer.customer_id


def test_an_agent_reads_only_their_own_contacts_and_customers(
    app: Flask, backend: WebServices, web_logins: WebLogins, utility: TestUtility
) -> None:
    mine, other = web_logins.agents[0], web_logins.agents[1]
    contact_id, customer_id = _contact_of(backend, other, utility)
    intruder = app.test_client()
    log_in(intruder, mine, web_logins.password)
    owner = app.test_client()
    log_in(owner, other, web_logins.password)
    supervisor = app.test_client()
    log_in(supervisor, web_logins.supervisor, web_logins.password)

    assert intruder.get(f"/api/contacts/{contact_id}").status_code == 403
    assert intruder.get(f"/api/customers/{customer_id}").status_code == 403
    wrapup = {"disposition": "billing", "notes": "不是我的电话", "topics": []}
    refused = intruder.post(
        f"/api/contacts/{contact_id}/wrapup", json=wrapup, headers={"X-CSRFToken": csrf_token(intruder)}
    )
    assert refused.status_code == 403

    assert owner.get(f"/api/customers/{customer_id}").get_json()["customer_id"] == customer_id
    assert supervisor.get(f"/api/customers/{customer_id}").status_code == 200
    saved = owner.post(
        f"/api/contacts/{contact_id}/wrapup",
        json={**wrapup, "notes": "电费咨询"},
        headers={"X-CSRFToken": csrf_token(owner)},
    )
    assert saved.status_code == 200
    with backend.sessions() as session:
        stored = session.get_one(Contact, contact_id)
        assert (stored.disposition, stored.agent_notes) == ("billing", "电费咨询")


def test_state_changing_calls_need_the_csrf_token(agent_client: FlaskClient) -> None:
    missing = agent_client.post("/api/agent/pause", json={"reason": "break"})
    assert missing.status_code == 400 and "CSRF" in missing.get_json()["detail"]
    wrong = agent_client.post("/api/agent/pause", json={"reason": "break"}, headers={"X-CSRFToken": "forged"})
    assert wrong.status_code == 400 and "CSRF" in wrong.get_json()["detail"]
    # The same request with the session's token gets past the check (to the ACD, which says the agent is not
    # signed in on a seat).
    right = agent_client.post(
        "/api/agent/pause", json={"reason": "break"}, headers={"X-CSRFToken": csrf_token(agent_client)}
    )
    assert right.status_code == 409
    assert agent_client.post("/logout").status_code == 400  # a form without its token
    assert agent_client.get("/api/agent").status_code == 200  # still logged in


def test_logging_in_needs_the_csrf_token_too(app: Flask, web_logins: WebLogins) -> None:
    client = app.test_client()
    forged = client.post("/api/session", json={"login": web_logins.supervisor, "password": web_logins.password})
    assert forged.status_code == 400
    form = client.post("/login", data={"login": web_logins.supervisor, "password": web_logins.password})
    assert form.status_code == 400


def test_wrong_passwords_are_throttled(app: Flask, backend: WebServices) -> None:
    login = f"throttled{next(_serial)}"
    Users(backend.sessions).create(login, "试用户", Role.SUPERVISOR, "the-right-one")
    client = app.test_client()
    for _ in range(FAILURES_PER_LOGIN):
        assert log_in(client, login, "wrong").status_code == 401
    blocked = log_in(client, login, "the-right-one")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "too many" in blocked.get_json()["detail"]
    # Another login from the same address is not locked out by this one's failures.
    other = f"unthrottled{next(_serial)}"
    Users(backend.sessions).create(other, "另一用户", Role.SUPERVISOR, "pw-two")
    assert log_in(app.test_client(), other, "pw-two").status_code == 200
    backend.redis.delete(f"web:loginfail:{login}")
    assert log_in(client, login, "the-right-one").status_code == 200


def test_an_unknown_login_and_a_wrong_password_get_the_same_answer(app: Flask, web_logins: WebLogins) -> None:
    unknown = log_in(app.test_client(), f"nobody{next(_serial)}", "x")
    wrong = log_in(app.test_client(), web_logins.admin, "x")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_json() == wrong.get_json()


def test_without_redis_logging_in_is_refused_in_words(testbed: Testbed, web_logins: WebLogins) -> None:
    config = testbed.config.with_overrides(redis={"url": f"redis://127.0.0.1:{free_port()}/0"})
    backend = build(config, testbed.hotline.contacts.sessions)
    try:
        client = create_app(config, backend).test_client()
        refused = log_in(client, web_logins.supervisor, web_logins.password)
        assert refused.status_code == 503
        assert "unavailable" in refused.get_json()["detail"]
    finally:
        backend.close()


def test_the_session_cookie_is_http_only_and_same_site(app: Flask, web_logins: WebLogins) -> None:
    client = app.test_client()
    response = log_in(client, web_logins.supervisor, web_logins.password)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_after_logging_in_the_form_goes_only_to_this_site(app: Flask, web_logins: WebLogins) -> None:
    client = app.test_client()
    token = csrf_token(client)
    form = {"login": web_logins.supervisor, "password": web_logins.password, "csrf_token": token}
    response = client.post("/login?next=//evil.example/x", data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/monitor"


def test_malformed_requests_get_a_reason(agent_client: FlaskClient) -> None:
    token = {"X-CSRFToken": csrf_token(agent_client)}
    not_json = agent_client.post("/api/agent/pause", data="reason=break", headers=token)
    assert not_json.status_code == 400 and "JSON" in not_json.get_json()["detail"]
    bad_reason = agent_client.post("/api/agent/pause", json={"reason": "nap"}, headers=token)
    assert bad_reason.status_code == 400 and "reason must be one of" in bad_reason.get_json()["detail"]
    bad_seat = agent_client.post("/api/agent/login", json={"seat": "seat99999"}, headers=token)
    assert bad_seat.status_code == 400
    assert agent_client.get("/api/contacts?ani=abc").status_code == 400
