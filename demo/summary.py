"""What a demo seed reports: the agents, the demo callers with their IVR secrets and the web logins with their
passwords (printed once by `app.py seed` and `app.py run`; the database keeps only hashes), and the counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoAgent:
    """An agent of the demo: staff number (also the login), name, site, seat, skills and how many key accounts
    the agent manages."""

    code: str
    name: str
    site: str
    seat: str | None
    skills: tuple[str, ...]
    key_accounts: int


@dataclass(frozen=True)
class DemoCaller:
    """A customer to call in as, for one scenario. The secret is only here, printed once: the database holds its
    hash."""

    scenario: str
    phone: str
    account_number: str
    customer_name: str
    secret: str


@dataclass(frozen=True)
class DemoLogin:
    """A login to the pages, with its password: printed once by the seed, stored only as a hash."""

    login: str
    name: str
    role: str
    password: str


@dataclass(frozen=True)
class DemoSummary:
    """What a seed made (created) or found already there (not created), and how long it took."""

    created: bool
    customers: int
    accounts: int
    bills: int
    seconds: float
    agents: tuple[DemoAgent, ...] = ()
    callers: tuple[DemoCaller, ...] = ()
    logins: tuple[DemoLogin, ...] = ()

    def lines(self) -> list[str]:
        """What `app.py seed` and `app.py run` print."""
        verb = "seeded" if self.created else "already seeded; nothing changed:"
        out = [
            f"demo utility {verb} {self.customers} customers, {self.accounts} accounts, {self.bills} bills"
            + (f" in {self.seconds:.1f} s" if self.created else "")
        ]
        if self.agents:
            out.append("agents (staff number, name, site, seat, skills, key accounts managed):")
            for a in self.agents:
                out.append(
                    f"  {a.code}  {a.name}  {a.site}  {a.seat or '-'}  {','.join(a.skills)}"
                    + (f"  {a.key_accounts}" if a.key_accounts else "")
                )
        if self.callers:
            out.append("demo callers (scenario, caller number, account number, name, IVR secret; shown only now):")
            for c in self.callers:
                out.append(f"  {c.scenario:<18} {c.phone}  {c.account_number}  {c.customer_name}  {c.secret}")
        if self.logins:
            out.append("web logins (login, role, name, password; shown only now):")
            for lg in self.logins:
                out.append(f"  {lg.login:<12} {lg.role:<10} {lg.name}  {lg.password}")
        return out
