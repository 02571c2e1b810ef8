"""Every page wholly in the chosen language, in real headless Chromium on the real stack: each page as each role
that sees it, in Chinese and in English, with data on it that shows the vocabularies (a work order in two states,
waiting callers of every tier, an agent on a call with its screen-pop, a paused campaign and a manager's task, a
pause and an abandoned call in today's queue log, a caller in self-service and the day's self-service funnel). In
Chinese no English word is left outside the data; in English no Chinese character; in both, no drop-down option
without a label and no term shown as its raw value.

Database text (names, addresses, summaries, logins) is what the pages mark `class="data"`; an element that declares
a language of its own (the switch names the other language in it; a transfer target is the ACD's syntax, `zxx`) is
not read as the page's."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from campaigns.policy import load_policy
from campaigns.rules import CampaignAction, CampaignKind, CampaignState
from campaigns.service import CampaignService
from crm.models import Contact, CountyCompany, User
from crm.tiers import Tier
from crm.users import Users, set_password
from crm.vocabulary import LANGUAGES, Role
from cti.acd.store import AcdStore, call_score
from cti.web import desk, i18n
from hotline.privacy import mask_caller
from ivr import billing, identify, outages, repair, routes
from ivr import call as ivr_call
from ivr.menu import Entry, Menu
from ivr.progress import IvrProgress
from reporting.queue_log import QueueLog
from tests.conftest import Testbed, TestUtility, WebLogins, new_caller_number, on_acd_store
from tests.test_web_browser import base_url, logged_in
from tests.test_web_campaigns import planned_outage
from work_orders.policy import load_policy as load_order_policy
from work_orders.records import NewWorkOrder
from work_orders.rules import Action, Actor, Kind, Origin, State
from work_orders.service import WorkOrderService

LIVE = 20_000  # ms: the monitor's figures are recomputed every few seconds and pushed
APP = "lang-test"  # no router holds this Stasis app: none reconciles the scene's calls against Asterisk
GROUP = "skill:langtest"  # no workflow sends callers there and no real agent serves it
KEY_ACCOUNTS = "team:key_accounts"

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


# -- the word table itself ---------------------------------------------------------------------------------------


def ivr_steps() -> tuple[str, ...]:
    """The IVR's steps: every menu and entry the flows define (and those made per call), what the IVR tells a caller,
    and the other steps of an IVR path; "" is a call not at a menu yet. The monitor's funnel shows where callers wait
    and give up by these names, the screen-pop shows the path."""
    modules = (billing, ivr_call, identify, outages, repair, routes)
    defined = {v.name for m in modules for v in vars(m).values() if isinstance(v, Menu | Entry)}
    per_call = {"language", "choose_account"}
    told = {"bill", "bill_refused", "outage", "fault_notice", "repair", "verify", "identify", "unavailable",
            "apology", "survey_result", "goodbye"}  # fmt: skip
    path = {"identified", "verified", "repair_result", "work_order", "to_person", "hangup"}
    return ("", *sorted(defined | per_call | told | path))


# Every vocabulary a page shows, as the word table keys it: "<vocabulary>.<value>".
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "tier": tuple(Tier),
    "kind": tuple(Kind),
    "order_state": tuple(State),
    "order_action": tuple(Action),
    "campaign_kind": tuple(CampaignKind),
    "campaign_state": tuple(CampaignState),
    "campaign_action": tuple(a for a in CampaignAction if a is not CampaignAction.FINISH),
    "contact_outcome": ("completed", "human", "abandoned", "error"),  # how a call left the IVR (ivr/routes.py)
    "disposition": desk.DISPOSITIONS,
    "reason": (*desk.PAUSE_REASONS, "supervisor", "missed calls", "seat unreachable", "logged in", "login"),
    "state": ("ready", "ringing", "busy", "wrap_up", "paused", "held", "logged_out"),
    "intent": ("general", "billing", "outage", "repair", "business", "complaint", "consultation", "suggestion"),
    "ivr_step": ivr_steps(),
}


@pytest.mark.parametrize("vocabulary", sorted(VOCABULARIES))
def test_every_value_of_a_vocabulary_has_its_words_in_both_languages(vocabulary: str) -> None:
    missing = [str(v) for v in VOCABULARIES[vocabulary] if f"{vocabulary}.{v}" not in i18n.WORDS]
    assert not missing, f"no words for {vocabulary} {missing}"


def test_the_word_table_keeps_each_language_to_itself() -> None:
    # {name}: what the page fills in (a skill's name, the seconds to wait).
    latin = {key: zh for key, (zh, _) in i18n.WORDS.items() if english_words(re.sub(r"\{\w+\}", "", zh))}
    chinese = {key: en for key, (_, en) in i18n.WORDS.items() if CJK.search(en)}
    assert not latin, f"Chinese words with English in them: {latin}"
    assert not chinese, f"English words with Chinese in them: {chinese}"


def english_words(text: str) -> list[str]:
    """The Latin words of a text. A token with a digit in it is an identifier or a figure (A1001, seat9001,
    GD20250101000001, 95598, 42s): the same in every language."""
    return [t for t in re.findall(r"[A-Za-z0-9_]+", text) if re.search("[A-Za-z]", t) and not re.search(r"\d", t)]


# -- what a page shows -------------------------------------------------------------------------------------------

# The page's own text: text nodes (hidden ones too: they are shown at some point) outside scripts and database
# text, the attributes a person reads, and the page's title; the options of drop-downs without a label; and terms
# whose label is their raw value (data-value holds the value behind a translated term).
_READ = """() => {
  const lang = document.documentElement.lang;
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 3; e = e.parentElement) {
      const classes = [...e.classList].map((c) => '.' + c).join('');
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + classes);
    }
    return parts.join(' > ');
  };
  const ours = (el) => !el.closest('script, style, .data') && el.closest('[lang]').lang === lang;
  const shown = [['title', document.title]];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.nodeValue.trim();
    if (text && ours(n.parentElement)) shown.push([where(n.parentElement), text]);
  }
  const read = '[placeholder], [title], [aria-label], [alt], input[type=submit], input[type=button]';
  for (const el of document.body.querySelectorAll(read)) {
    if (!ours(el)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt', 'value']) {
      if (name === 'value' && !['submit', 'button'].includes(el.type)) continue;
      const value = (el.getAttribute(name) || '').trim();
      if (value) shown.push([where(el) + '[' + name + ']', value]);
    }
  }
  const unlabelled = [...document.body.querySelectorAll('select option')]
    .filter((o) => !o.label.trim()).map((o) => where(o.parentElement) + ' option[value="' + o.value + '"]');
  const raw = [...document.body.querySelectorAll('[data-value]')]
    .filter((el) => ours(el) && el.dataset.value && el.textContent.trim() === el.dataset.value)
    .map((el) => where(el) + ': ' + el.dataset.value);
  return { shown, unlabelled, raw };
}"""


def leftovers(page: Page) -> list[str]:
    """What the page shows that is not in its language."""
    found = page.evaluate(_READ)
    lang = page.locator("html").get_attribute("lang") or ""
    wrong = []
    for where, text in found["shown"]:
        if lang == "en" and CJK.search(text):
            wrong.append(f"{where}: {text!r}")
        elif lang != "en" and english_words(text):
            wrong.append(f"{where}: {text!r} ({', '.join(english_words(text))})")
    wrong += [f"option without a label: {o}" for o in found["unlabelled"]]
    wrong += [f"raw value shown: {r}" for r in found["raw"]]
    return wrong


def check(page: Page, what: str) -> list[str]:
    """The leftovers of the page open now, named by the page; the page must not be showing an error."""
    alerts = page.locator("[role=alert]:visible")
    expect(alerts).to_have_count(0)
    return [f"{what}: {w}" for w in leftovers(page)]


# -- the scene ---------------------------------------------------------------------------------------------------


@dataclass
class Scene:
    agent: str  # on a call, on their desk
    call: str  # the agent's call
    account: str  # its customer's account
    paused_agent: str  # paused after missed calls, on the monitor
    waiting: dict[str, str]  # tier -> caller number of a waiting call
    abandoned_caller: str  # gave up in today's queue log
    created: str  # a work order the agent made, not dispatched yet
    dispatched: str  # one with the utility's county
    campaign: int  # a planned-outage notice, paused
    outage: int  # its outage
    task: int  # its key account's task for the manager
    county: str  # the utility's county staff login
    manager: str  # the key-account manager's login
    ivr_menu: str  # where a caller in self-service waits now


def county_login(testbed: Testbed, password: str, county_id: int) -> str:
    """A login of the county company's staff, with the tests' password."""
    sessions = testbed.hotline.contacts.sessions
    with sessions() as s:
        found = s.scalars(select(User.login).where(User.county_company_id == county_id)).first()
    if found is None:
        found = f"lang-county-{new_caller_number()[-6:]}"
        Users(sessions).create(found, "测试县客服", Role.COUNTY, password, county_company_id=county_id)
    assert set_password(sessions, found, password)
    return found


def manager_login(testbed: Testbed, password: str, code: str) -> str:
    """The login of the key-account manager with this staff number, with the tests' password."""
    sessions = testbed.hotline.contacts.sessions
    found = Users(sessions).by_agent_code(code)
    login = found.login if found is not None else f"lang-kam-{new_caller_number()[-6:]}"
    if found is None:
        Users(sessions).create(login, "测试客户经理", Role.AGENT, password, agent_code=code)
    assert set_password(sessions, login, password)
    return login


@pytest.fixture(scope="module")
def scene(testbed: Testbed, web_logins: WebLogins, utility: TestUtility) -> Iterator[Scene]:
    sessions = testbed.hotline.contacts.sessions
    now = datetime.now(UTC)
    agent = web_logins.agents[0]  # signed in on a desk by no other test
    with sessions() as s:
        county_id = s.scalars(select(CountyCompany.id).where(CountyCompany.code == str(utility.COUNTY))).one()

    # A customer under the fault, with bills, a complaint last week and two work orders.
    customer = utility.customer(area="fault", due_fen=12_345, arrears_fen=6_780)[0]
    call = f"lang-{int(now.timestamp() * 1000)}"
    path = [
        {"step": "language", "key": "1", "result": "ok"},
        {"step": "identified", "how": "caller number", "verified": True},
        {"step": "main_menu", "key": "5", "result": "ok"},
        {"step": "complaint_menu", "key": "1", "result": "ok"},
        {"step": "to_person", "reason": "asked for complaint", "intent": "complaint"},
    ]
    with sessions.begin() as s:
        s.add(Contact(uniqueid=f"{call}-before", caller_number=customer.phone, started_at=now - timedelta(days=7),
                      outcome="human", disposition="complaint", account_id=customer.account_id))  # fmt: skip
        s.add(Contact(uniqueid=call, caller_number=customer.phone, started_at=now, ivr_path=path,
                      outcome="human", account_id=customer.account_id))  # fmt: skip
    orders = WorkOrderService(sessions, load_order_policy(testbed.config.work_orders.policy))

    def staff(login: str) -> Actor:
        with sessions() as s:
            user = s.scalars(select(User).where(User.login == login)).one()
            return Actor(user.login, user.role, user.id, user.county_company_id)

    created = orders.create(
        NewWorkOrder(Kind.COMPLAINT, "客户对电费有异议", Origin.AGENT, account_number=customer.account_number),
        staff(agent),
    )
    dispatched = orders.create(
        NewWorkOrder(Kind.REPAIR, "客户家中停电", Origin.AGENT, account_number=customer.account_number), staff(agent)
    )
    orders.transition(dispatched.number, Action.DISPATCH, staff(web_logins.dispatcher))

    # A planned outage over a key account (its manager's task) and a customer the robot would call: paused.
    outage_id, area = planned_outage(utility)
    key_account = utility.customer(area=area, tier="key_account")[0]
    utility.customer(area=area)
    campaigns = CampaignService(sessions, load_policy())
    made = campaigns.create_for_outage(outage_id, web_logins.supervisor)
    campaigns.start(made.campaign.id)
    campaigns.pause(made.campaign.id)
    task = campaigns.manager_tasks(agent_id=None, campaign_id=made.campaign.id, open_only=True)
    assert [t.customer_id for t in task] == [key_account.customer_id]

    # Today's queue log: an agent paused after missed calls, a key-account caller who gave up waiting.
    paused_agent = "A9801"
    abandoned = f"{call}-gave-up"
    abandoned_caller = new_caller_number()
    with sessions.begin() as s:
        s.add(Contact(uniqueid=abandoned, caller_number=abandoned_caller, started_at=now - timedelta(minutes=2)))

    def event(seconds_ago: int, kind: str, call: str | None = None, queue: str | None = None,
              agent: str | None = None, **data: Any) -> dict[str, Any]:  # fmt: skip
        """An ACD event in the notifier's format, that long ago."""
        at = (now - timedelta(seconds=seconds_ago)).isoformat(timespec="milliseconds")
        return {"type": kind, "at": at, "call": call, "queue": queue, "agent": agent, "data": data}

    QueueLog(sessions).append(
        [
            event(300, "agent.login", agent=agent, seat="seat9701"),
            event(200, "agent.pause", agent=agent, reason="missed calls", by=""),
            event(100, "agent.ready", agent=agent, after="pause"),
            # The day's latest hang-up, so that it is among the calls the monitor lists (the 20 latest), whatever
            # the tests before this one in the process left in today's queue log.
            event(30, "queue.enter", call=abandoned, queue=KEY_ACCOUNTS, tier="key_account", intent="repair"),
            event(1, "queue.abandon", call=abandoned, queue=KEY_ACCOUNTS, during="waiting"),
        ]
    )

    # The ACD: the agent on the customer's call, another paused after missed calls, a caller of each tier waiting.
    waiting = {tier.value: new_caller_number() for tier in Tier}
    stamp = int(now.timestamp() * 1000)

    def fields(caller: str, tier: str, intent: str, entered: int) -> dict[str, str]:
        return {"app": APP, "caller": caller, "tier": tier, "intent": intent, "priority": "5",
                "score": str(call_score(5, entered)), "entered": str(entered)}  # fmt: skip

    async def fill(store: AcdStore) -> None:
        groups = (f"agent:{agent}", "skill:general", KEY_ACCOUNTS, GROUP, "all")
        assert (await store.login(agent, "seat9701", groups, stamp - 60_000))[0]
        assert (await store.set_agent_state(agent, "ready", "", stamp - 50_000))[0]
        first = fields(customer.phone, "standard", "complaint", stamp - 40_000)
        assert await store.enqueue(call, GROUP, 0, {**first, "account": customer.account_number})
        offer = await store.claim_for_call(call, stamp - 38_000)
        assert offer is not None and offer.agent == agent
        assert await store.connect(call, agent, stamp - 35_000)
        assert (await store.login(paused_agent, "seat9702", (f"agent:{paused_agent}", GROUP), stamp - 30_000))[0]
        assert (await store.set_agent_state(paused_agent, "paused", "missed calls", stamp - 20_000))[0]
        for n, (tier, caller) in enumerate(waiting.items()):
            assert await store.enqueue(f"{call}-waiting-{n}", GROUP, 0, fields(caller, tier, "repair", stamp - n))

    async def empty(store: AcdStore) -> None:
        for n in range(len(waiting)):
            await store.finish(f"{call}-waiting-{n}", int(time.time() * 1000))
        await store.finish(call, int(time.time() * 1000))
        await store.logout(agent)
        await store.logout(paused_agent)

    # The IVR, reported as it reports calls: one caller typing an account number now; today, one served by
    # self-service, one who gave up at the repair question, one who failed the main menu three times.
    progress = IvrProgress.to_redis(testbed.config.redis.effective_url())
    in_ivr = f"{call}-ivr-waiting"

    def through(uniqueid: str, *menus: str) -> None:
        progress.report("ivr.start", uniqueid, line="main", contact=0, sip_call_id="")
        for n, menu in enumerate(menus):
            attempt = menus[: n + 1].count(menu)  # the how-many-th time it asks there
            progress.report("ivr.wait", uniqueid, menu=menu, attempt=attempt, line="main")

    def ended(uniqueid: str, outcome: str, at: str, failed_at: str = "") -> None:
        progress.report("ivr.end", uniqueid, line="main", outcome=outcome, at=at, reason="", failed_at=failed_at)

    through(f"{call}-ivr-served", "language", "main_menu", "bill", "after_info")
    ended(f"{call}-ivr-served", "completed", "goodbye")
    through(f"{call}-ivr-gave-up", "language", "main_menu", "repair_scope")
    ended(f"{call}-ivr-gave-up", "abandoned", "repair_scope")
    through(f"{call}-ivr-failed", "language", "main_menu", "main_menu", "main_menu")
    ended(f"{call}-ivr-failed", "human", "main_menu", failed_at="main_menu")
    through(in_ivr, "language", "main_menu", "account_entry")
    assert progress.flush()

    try:
        on_acd_store(testbed, fill)
        yield Scene(
            agent=agent,
            call=call,
            account=customer.account_number,
            paused_agent=paused_agent,
            waiting=waiting,
            abandoned_caller=abandoned_caller,
            created=created.number,
            dispatched=dispatched.number,
            campaign=made.campaign.id,
            outage=outage_id,
            task=task[0].id,
            county=county_login(testbed, web_logins.password, county_id),
            manager=manager_login(testbed, web_logins.password, utility.manager_code),
            ivr_menu="account_entry",
        )
    finally:
        on_acd_store(testbed, empty)
        campaigns.stop(made.campaign.id)
        ended(in_ivr, "abandoned", "account_entry")
        progress.close()


# -- the pages, as each role sees them ---------------------------------------------------------------------------


def desk_page(page: Page, scene: Scene) -> None:
    expect(page.locator("#agent-state")).to_have_attribute("data-state", "busy", timeout=LIVE)
    expect(page.locator("#pop-account")).to_have_text(scene.account, timeout=LIVE)
    expect(page.locator("#pop-orders li")).to_have_count(2)
    expect(page.locator("#pop-contacts li").first).to_be_visible()
    expect(page.locator("#pop-path li")).to_have_count(5)


def monitor_page(page: Page, scene: Scene) -> None:
    expect(page.locator(f'.agent[data-agent="{scene.agent}"]')).to_have_attribute("data-state", "busy", timeout=LIVE)
    expect(page.locator(f'.agent[data-agent="{scene.paused_agent}"]')).to_have_attribute("data-state", "paused")
    for caller in scene.waiting.values():
        expect(page.locator("#waiting tbody tr").filter(has_text=caller)).to_have_count(1, timeout=LIVE)
    expect(page.locator(f"#campaign-progress tr[data-campaign='{scene.campaign}']")).to_be_visible(timeout=LIVE)
    gave_up = page.locator("#abandoned li").filter(has_text=mask_caller(scene.abandoned_caller))
    expect(gave_up).to_have_count(1, timeout=LIVE)
    # The self-service funnel: the caller at a menu, today's containment and outcomes, the trouble spots.
    expect(page.locator(f'#ivr-menus tbody [data-value="{scene.ivr_menu}"]')).to_have_count(1, timeout=LIVE)
    expect(page.locator("#ivr-containment")).not_to_have_text("—")
    expect(page.locator("#ivr-outcomes")).not_to_have_text("—")
    expect(page.locator("#ivr-trouble tbody tr").first).to_be_visible()


def assessment_page(page: Page, scene: Scene) -> None:
    row = page.locator("#assessment tbody tr").filter(has=page.locator("td:first-child", has_text=scene.agent))
    expect(row).to_have_count(1, timeout=LIVE)
    expect(row.locator("td").nth(7)).not_to_have_text("—")  # the pause after missed calls


def orders_page(number: str) -> Callable[[Page, Scene], None]:
    def shown(page: Page, scene: Scene) -> None:
        expect(page.locator("#orders tbody tr").filter(has_text=number)).to_have_count(1, timeout=LIVE)

    return shown


def order_page(actions: int) -> Callable[[Page, Scene], None]:
    def shown(page: Page, scene: Scene) -> None:
        expect(page.locator("#order-steps li").first).to_be_visible(timeout=LIVE)
        expect(page.locator("#order-actions button")).to_have_count(actions)
        expect(page.locator("#order-county option").nth(1)).to_be_attached()  # the counties are listed

    return shown


def campaigns_page(page: Page, scene: Scene) -> None:
    expect(page.locator(f"#campaigns tr[data-campaign='{scene.campaign}']")).to_be_visible(timeout=LIVE)
    expect(page.locator(f"#planned-outages tr[data-outage='{scene.outage}']")).to_be_visible(timeout=LIVE)


def tasks_page(mine: bool) -> Callable[[Page, Scene], None]:
    def shown(page: Page, scene: Scene) -> None:
        if mine:
            expect(page.locator(f"#tasks tr[data-task='{scene.task}']")).to_be_visible(timeout=LIVE)
        else:
            expect(page.locator("#tasks-empty")).to_be_visible(timeout=LIVE)

    return shown


Visit = tuple[str, Callable[[Page, Scene], None]]


def visits(role: str, scene: Scene) -> list[Visit]:
    """The pages a role sees, with what each must show before it is read."""
    return {
        "agent": [
            ("/desk", desk_page),
            ("/orders", orders_page(scene.created)),
            (f"/orders/{scene.created}", order_page(0)),
            ("/tasks", tasks_page(mine=False)),
        ],
        "supervisor": [
            ("/monitor", monitor_page),
            ("/assessment", assessment_page),
            ("/orders", orders_page(scene.dispatched)),
            (f"/orders/{scene.dispatched}", order_page(0)),
            ("/campaigns", campaigns_page),
            ("/tasks", tasks_page(mine=True)),
        ],
        "dispatcher": [
            ("/orders", orders_page(scene.created)),
            (f"/orders/{scene.created}", order_page(1)),  # dispatch
            ("/campaigns", campaigns_page),
        ],
        "county": [
            ("/orders", orders_page(scene.dispatched)),
            (f"/orders/{scene.dispatched}", order_page(2)),  # accept, return
        ],
        "manager": [("/tasks", tasks_page(mine=True))],
    }[role]


def login_for(role: str, scene: Scene, web_logins: WebLogins) -> str:
    return {
        "agent": scene.agent,
        "supervisor": web_logins.supervisor,
        "dispatcher": web_logins.dispatcher,
        "county": scene.county,
        "manager": scene.manager,
    }[role]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("role", ["agent", "supervisor", "dispatcher", "county", "manager"])
def test_every_page_a_role_sees_is_wholly_in_the_chosen_language(
    browser: Browser, testbed: Testbed, web_logins: WebLogins, scene: Scene, role: str, lang: str
) -> None:
    page = logged_in(browser, testbed, login_for(role, scene, web_logins), web_logins.password, lang)
    try:
        expect(page.locator("html")).to_have_attribute("lang", "en" if lang == "en" else "zh-CN")
        wrong: list[str] = []
        for path, shown in visits(role, scene):
            page.goto(path)
            shown(page, scene)
            wrong += check(page, path)
        assert not wrong, f"{len(wrong)} leftovers as {role} in {lang}:\n" + "\n".join(wrong)
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_login_page_and_its_refusal_are_in_the_chosen_language(
    browser: Browser, testbed: Testbed, lang: str
) -> None:
    context = browser.new_context(base_url=base_url(testbed))
    context.add_cookies([{"name": "lang", "value": lang, "url": base_url(testbed)}])
    page = context.new_page()
    try:
        page.goto("/login")
        expect(page.locator("#login-form")).to_be_visible()
        wrong = [f"/login: {w}" for w in leftovers(page)]
        page.fill("input[name=login]", f"nobody-{new_caller_number()}")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        expect(page.locator("#login-form .error")).to_be_visible()
        wrong += [f"/login refused: {w}" for w in leftovers(page)]
        assert not wrong, f"{len(wrong)} leftovers in {lang}:\n" + "\n".join(wrong)
    finally:
        context.close()
