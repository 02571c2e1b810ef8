"""The FastAGI routes of the self-service IVR, and where each call's contact row is opened and closed."""

from __future__ import annotations

import logging

from crm.contacts import ContactDraft, ContactLog
from ivr.fastagi import DIGITS, AgiChannel, Hangup, Route

log = logging.getLogger(__name__)

# How long the IVR waits for a key after a prompt, and how many silent or wrong tries send the caller to a person.
KEY_TIMEOUT_MS = 5000
MAX_TRIES = 3


class Ivr:
    """The routes, with the services they use. The dialplan reads HOTLINE_NEXT afterwards: `done` ends the
    call; anything else (including nothing, if a route failed) sends the caller to a person."""

    def __init__(self, contacts: ContactLog, language: str) -> None:
        self.contacts = contacts
        self.language = language

    def routes(self) -> dict[str, Route]:
        return {"main": self.main}

    def prompt(self, name: str) -> str:
        return f"hotline/{self.language}/{name}"

    def main(self, channel: AgiChannel) -> None:
        log.info("call from %s to %s", channel.caller_number or "unknown", channel.dialled_number)
        draft = self.contacts.open(
            channel.uniqueid, channel.caller_number, channel.dialled_number, channel.channel, self.language
        )
        try:
            outcome = self._greet(channel, draft)
        except Hangup:
            self.contacts.close(draft, "abandoned")
            raise
        except Exception:
            self.contacts.close(draft, "error")
            raise
        self.contacts.close(draft, outcome)

    def _greet(self, channel: AgiChannel, draft: ContactDraft) -> str:
        """Greet, read one key: 0 asks for a person, any other key is recorded and thanked."""
        channel.answer()
        for attempt in range(1, MAX_TRIES + 1):
            key = channel.stream_file(self.prompt("greeting"), DIGITS) or channel.wait_for_digit(KEY_TIMEOUT_MS)
            draft.step("greeting", key=key or "", attempt=attempt)
            if key:
                break
        else:
            return self._to_person(channel, draft, "no key pressed")
        if key == "0":
            return self._to_person(channel, draft, "asked for a person")
        channel.stream_file(self.prompt("thanks"))
        channel.set_variable("HOTLINE_NEXT", "done")
        return "completed"

    def _to_person(self, channel: AgiChannel, draft: ContactDraft, why: str) -> str:
        log.info("to a person: %s", why)
        draft.step("to_person", reason=why)
        channel.set_variable("HOTLINE_NEXT", "human")
        return "human"
