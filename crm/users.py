"""Users of the pages and the API (座席员, 班长, 服调, 县公司): created with a role, checked by password."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.models import Agent, User
from crm.verification import hash_secret, verify_secret
from crm.vocabulary import Role
from hotline import periods

# A hash to check against when the login is unknown, so that an unknown login takes as long as a wrong password.
_UNKNOWN = hash_secret(secrets.token_urlsafe(12))


@dataclass(frozen=True)
class Identity:
    """Who is logged in, as the web layer carries it in the session."""

    user_id: int
    login: str
    name: str
    role: Role
    agent_code: str | None  # the staff number (工号) the ACD knows an agent by
    county_company_id: int | None


def new_password() -> str:
    return secrets.token_urlsafe(9)


class Users:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, login: str, name: str, role: Role, password: str, *, agent_code: str | None = None,
               county_company_id: int | None = None) -> Identity:  # fmt: skip
        """Add a user; an agent's login is linked to the agent with that staff number."""
        with self.sessions.begin() as session:
            agent_id = None
            if agent_code is not None:
                agent_id = session.scalar(select(Agent.id).where(Agent.code == agent_code))
                if agent_id is None:
                    raise ValueError(f"no agent with staff number {agent_code}")
            user = User(
                login=login,
                name=name,
                role=role,
                password_hash=hash_secret(password),
                agent_id=agent_id,
                county_company_id=county_company_id,
                active=True,
                created_at=periods.now_utc(),
            )
            session.add(user)
            session.flush()
            return Identity(user.id, login, name, role, agent_code, county_company_id)

    def check(self, login: str, password: str) -> Identity | None:
        """The user if the password is theirs and the user is active; None otherwise (which one is not said)."""
        with self.sessions() as session:
            user = session.scalar(select(User).where(User.login == login))
            if user is None or not user.active:
                verify_secret(password, _UNKNOWN)
                return None
            if not verify_secret(password, user.password_hash):
                return None
            return self._identity(session, user)

    def get(self, user_id: int) -> Identity | None:
        with self.sessions() as session:
            user = session.get(User, user_id)
            return self._identity(session, user) if user is not None and user.active else None

    def by_agent_code(self, code: str) -> Identity | None:
        with self.sessions() as session:
            user = session.scalar(select(User).join(Agent, Agent.id == User.agent_id).where(Agent.code == code))
            return self._identity(session, user) if user is not None else None

    def skills(self, agent_code: str) -> tuple[str, ...]:
        """The skill codes of the agent with this staff number (agent_skills)."""
        return agent_skills(self.sessions, agent_code)

    def agent_id(self, user_id: int) -> int | None:
        """The staff record (agents.id) of a login: an account manager's tasks are filed under it."""
        with self.sessions() as session:
            return session.scalar(select(User.agent_id).where(User.id == user_id))

    def agent_id_by_code(self, agent_code: str) -> int | None:
        """The staff record (agents.id) of the agent with this staff number."""
        with self.sessions() as session:
            return session.scalar(select(Agent.id).where(Agent.code == agent_code))

    @staticmethod
    def _identity(session: Session, user: User) -> Identity:
        code = session.scalar(select(Agent.code).where(Agent.id == user.agent_id)) if user.agent_id else None
        return Identity(user.id, user.login, user.name, user.role, code, user.county_company_id)


def agent_skills(sessions: sessionmaker[Session], code: str) -> tuple[str, ...]:
    """The skill codes (技能组) of the agent with this staff number, for the ACD's routing."""
    from crm.models import AgentSkill, Skill

    with sessions() as session:
        query = (
            select(Skill.code)
            .join(AgentSkill, AgentSkill.skill_id == Skill.id)
            .join(Agent, Agent.id == AgentSkill.agent_id)
            .where(Agent.code == code)
            .order_by(Skill.id)
        )
        return tuple(session.scalars(query))


def set_password(sessions: sessionmaker[Session], login: str, password: str) -> bool:
    """Give a user a new password; False if there is no such login."""
    with sessions.begin() as session:
        user = session.scalar(select(User).where(User.login == login))
        if user is None:
            return False
        user.password_hash = hash_secret(password)
        return True
