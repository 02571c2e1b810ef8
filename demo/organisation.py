"""The demo city's organisation and grid: county companies, sites, skills, agents and their web logins;
substations, feeders and transformer areas."""

from __future__ import annotations

from crm.models import Agent, AgentSkill, CountyCompany, Feeder, Site, Skill, Substation, TransformerArea, User
from crm.users import new_password
from crm.verification import hash_secret
from crm.vocabulary import Role
from demo.catalogue import CITY, COUNTIES, PLACES, SITES, SKILLS, grid_size, person_name
from demo.city import DemoCity
from demo.summary import DemoAgent, DemoLogin


def write_organisation(city: DemoCity) -> list[DemoAgent]:
    """County companies, sites, skills and agents; every fourth agent manages key accounts."""
    counties = [(i + 1, code, name) for i, (code, name) in enumerate(COUNTIES)]
    city.topology.counties = counties
    city.loader.write(
        CountyCompany,
        ("id", "code", "name"),
        ((i, code, f"国网{CITY}{name}供电公司") for i, code, name in counties),
    )
    county_id = {code: i for i, code, _ in counties}
    city.loader.write(
        Site,
        ("id", "code", "name", "county_company_id", "seats"),
        (
            (i + 1, code, name, county_id[county] if county else None, seats)
            for i, (code, name, county, seats, _) in enumerate(SITES)
        ),
    )
    city.loader.write(
        Skill,
        ("id", "code", "name"),
        ((i + 1, code, name) for i, (code, name) in enumerate(SKILLS)),
    )
    skill_id = {code: i + 1 for i, (code, _) in enumerate(SKILLS)}
    agents: list[DemoAgent] = []
    agent_rows = []
    skill_rows = []
    number = 0
    for site_index, (_, site_name, _, _, count) in enumerate(SITES):
        for _ in range(count):
            number += 1
            code = f"A{1000 + number}"
            name = person_name(city.rng)
            seat = city.seats[number - 1] if number <= len(city.seats) else None
            # Every fourth agent is a key-account manager; everyone takes bills and outages.
            skills = ["billing", "outage"]
            if number % 4 == 0:
                skills.append("key_account")
            if number % 3 == 0:
                skills.append("repair")
            if number % 5 == 0:
                skills.append("complaint")
            if number % 6 == 1:
                skills.append("business")
            if number % 11 == 2:
                skills.append("english")
            skills.sort(key=skill_id.__getitem__)  # listed in the skills table's order, as a re-run lists them
            agent_rows.append((number, code, name, site_index + 1, seat, True))
            for s in skills:
                skill_rows.append((number, skill_id[s], 3 + (number + len(s)) % 3))
            agents.append(DemoAgent(code, name, site_name, seat, tuple(skills), 0))
            city.agent_ids.append(number)
            if "key_account" in skills:
                city.manager_ids.append(number)
    city.loader.write(Agent, ("id", "code", "name", "site_id", "seat", "active"), agent_rows)
    city.loader.write(AgentSkill, ("agent_id", "skill_id", "level"), skill_rows)
    return agents


def write_grid(city: DemoCity) -> None:
    """Substations, feeders and transformer areas, round robin so that every substation feeds two feeders at
    least and every feeder has areas."""
    t = city.topology
    substations, feeders, areas = grid_size(city.n)
    for s in range(substations):
        t.substation_county.append(s % len(COUNTIES))
        t.substation_names.append(f"{PLACES[s % len(PLACES)]}{'' if s < len(PLACES) else s // len(PLACES)}变电站")
    for f in range(feeders):
        # Round robin: every substation feeds at least two feeders, so each has a neighbour.
        t.feeder_substation.append(f % substations)
        t.feeder_names.append(f"10千伏{PLACES[(f * 7) % len(PLACES)]}{f + 1}线")
    for a in range(areas):
        t.area_feeder.append(a % feeders)
        t.area_names.append(f"{PLACES[(a * 11) % len(PLACES)]}{a + 1}号台区")
    city.loader.write(
        Substation,
        ("id", "code", "name", "voltage_kv", "county_company_id"),
        (
            (s + 1, f"BDZ{s + 1:04d}", name, 110 if s % 3 else 35, t.counties[t.substation_county[s]][0])
            for s, name in enumerate(t.substation_names)
        ),
    )
    city.loader.write(
        Feeder,
        ("id", "code", "name", "substation_id"),
        ((f + 1, f"XL{f + 1:05d}", t.feeder_names[f], s + 1) for f, s in enumerate(t.feeder_substation)),
    )
    city.loader.write(
        TransformerArea,
        ("id", "code", "name", "feeder_id", "capacity_kva"),
        (
            (a + 1, f"TQ{a + 1:06d}", t.area_names[a], f + 1, (200, 315, 400, 630)[a % 4])
            for a, f in enumerate(t.area_feeder)
        ),
    )


def write_logins(city: DemoCity, agents: list[DemoAgent]) -> tuple[DemoLogin, ...]:
    """Logins to the pages: every agent, a supervisor, an administrator, the city dispatch and each county."""
    people: list[tuple[str, str, Role, int | None, int | None]] = [
        (a.code, a.name, Role.AGENT, agent_id, None) for agent_id, a in zip(city.agent_ids, agents, strict=True)
    ]
    people += [
        ("supervisor", "值班长", Role.SUPERVISOR, None, None),
        ("admin", "系统管理员", Role.ADMIN, None, None),
        ("dispatch", f"{CITY}供电公司服务调度", Role.DISPATCHER, None, None),
    ]
    people += [
        (f"county{code}", name, Role.COUNTY, None, county_id) for county_id, code, name in city.topology.counties
    ]
    logins = []
    rows = []
    for n, (login, name, role, agent_id, county_id) in enumerate(people, start=1):
        # Fresh random passwords: the demo's data is deterministic, its passwords must not be.
        password = new_password()
        logins.append(DemoLogin(login, name, role.value, password))
        rows.append((n, login, name, role.value, hash_secret(password), agent_id, county_id, True, city.now))
    columns = ("id", "login", "name", "role", "password_hash", "agent_id", "county_company_id", "active",
               "created_at")  # fmt: skip
    city.loader.write(User, columns, rows)
    return tuple(logins)
