"""Which accounts a customer holds, as the pages' access checks read it: an agent may read the customer whose account
their live call is about (the customer 360 itself is crm/services.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Account


class Accounts:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def numbers_of(self, customer_id: int) -> frozenset[str]:
        """The numbers (户号) of the customer's accounts; empty for an unknown customer."""
        with self.sessions() as session:
            return frozenset(session.scalars(select(Account.number).where(Account.customer_id == customer_id)))
