"""The menu engine's rules, as data and pure functions: what a menu says, which keys answer it, and what a wrong
key or silence does. No I/O here; ivr/call.py plays the prompts and reads the keys.

The conventions callers expect everywhere: 0 reaches a person, * repeats the menu, a key cuts the prompt
short (barge-in), and the third wrong key or silence leads to a person rather than a hang-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

PERSON_KEY = "0"
REPEAT_KEY = "*"
MAX_TRIES = 3
KEY_TIMEOUT_MS = 5000


class Act(StrEnum):
    CHOOSE = "choose"  # the caller answered: go on with the choice
    REPEAT = "repeat"  # say the menu again; not a failure
    RETRY = "retry"  # a wrong key or silence: say why, then the menu again
    PERSON = "person"  # to a person, by the caller's wish or after too many failures


@dataclass(frozen=True)
class Decision:
    act: Act
    choice: str = ""
    # Said before the menu is asked again (menu/invalid, menu/no_input).
    notice: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Menu:
    """One question: the prompts said (in order, each cut short by a key), the keys that answer it and the choice
    each key means. `on_silence`, `on_invalid` and `on_failure` name a choice taken instead of the usual retry or
    person; `person_key` and `repeat_key` switch the conventions off where they make no sense (the survey)."""

    name: str
    prompt: tuple[str, ...]
    choices: Mapping[str, str]
    timeout_ms: int = KEY_TIMEOUT_MS
    tries: int = MAX_TRIES
    on_silence: str | None = None
    on_invalid: str | None = None
    on_failure: str | None = None
    person_key: bool = True
    repeat_key: bool = True


def decide(menu: Menu, key: str | None, failures: int) -> Decision:
    """What the caller's key (None: silence until the timeout) means, after `failures` wrong keys or silences."""
    if key is None:
        if menu.on_silence is not None:
            return Decision(Act.CHOOSE, menu.on_silence)
        return _failed(menu, failures, "no_input", "no key")
    if key in menu.choices:
        return Decision(Act.CHOOSE, menu.choices[key])
    if key == PERSON_KEY and menu.person_key:
        return Decision(Act.PERSON, reason="asked for a person")
    if key == REPEAT_KEY and menu.repeat_key:
        return Decision(Act.REPEAT)
    if menu.on_invalid is not None:
        return Decision(Act.CHOOSE, menu.on_invalid)
    return _failed(menu, failures, "invalid", f"wrong key {key}")


def _failed(menu: Menu, failures: int, kind: str, what: str) -> Decision:
    if failures + 1 < menu.tries:
        return Decision(Act.RETRY, notice=f"menu/{kind}", reason=what)
    if menu.on_failure is not None:
        return Decision(Act.CHOOSE, menu.on_failure, reason=f"{menu.tries} failures")
    return Decision(Act.PERSON, reason=f"{menu.tries} failures in {menu.name}")


@dataclass(frozen=True)
class Entry:
    """Digits the caller types, ended by # (an account number, a password). A check of what was typed is the
    flow's business; here are the prompt, how many digits at most, and how long to wait for each."""

    name: str
    prompt: str
    max_digits: int
    timeout_ms: int = 6000
    tries: int = MAX_TRIES


def read_entry(typed: str, timed_out: bool) -> Decision:
    """What typed digits mean before any check: nothing typed is silence, a lone 0 asks for a person, a leading *
    asks to hear the prompt again; anything else is the caller's answer (CHOOSE with the digits)."""
    if not typed:
        return Decision(Act.RETRY, notice="menu/no_input", reason="nothing typed" if timed_out else "only #")
    if typed == PERSON_KEY:
        return Decision(Act.PERSON, reason="asked for a person")
    if typed.startswith(REPEAT_KEY):
        return Decision(Act.REPEAT)
    return Decision(Act.CHOOSE, typed)
