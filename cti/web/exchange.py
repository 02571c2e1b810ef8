"""What every view shares about a request and its reply: the request's JSON body, and answers in JSON (domain values
made plain by cti/jsonable.py, the ACD's yes-or-no with its reason)."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request

from cti.jsonable import plain

__all__ = ["answer", "body", "plain"]


def body() -> dict[str, Any]:
    """The request's JSON object; anything else is a 400 with the reason."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "send a JSON object with Content-Type: application/json")
    return data


def answer(ok: bool, detail: str, **extra: Any) -> Any:
    """The ACD's answer to an action: the state it led to, or 409 with the reason it was refused."""
    if ok:
        return jsonify(ok=True, state=detail, **extra)
    return jsonify(ok=False, error="refused", detail=detail), 409
