"""People and their accounts in GitHub, Jira and Slack, with the inconsistencies real tools have.

Most accounts carry the person's work email; some GitHub profiles hide it or show a personal
one, Jira Cloud hides some emails, and a few Slack handles drift from the name. Identity
resolution has to cope with exactly that; the truth of who-is-who is kept in the records.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from .model import Person

FIRST = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oscar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tomoko",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoë",
    "José",
    "Åsa",
    "Łukasz",
    "Nour",
    "Anaïs",
    "Björn",
    "Céline",
    "Dmitri",
    "Eitan",
    "Farah",
    "Giulia",
    "Hiro",
    "Ines",
    "Jonas",
]
LAST = [
    "Smith",
    "Okafor",
    "Li",
    "Kowalski",
    "Müller",
    "Haddad",
    "Novak",
    "Tanaka",
    "Petrov",
    "García",
    "Mensah",
    "Ångström",
    "Núñez",
    "Dubois",
    "Rossi",
    "Sato",
    "Khan",
    "Silva",
    "Berg",
    "Nakamura",
    "O'Brien",
    "van Dijk",
    "Schmidt",
    "Ivanova",
    "Costa",
    "Chaudhry",
    "Lindqvist",
    "Moreau",
    "Fischer",
    "Yilmaz",
    "Park",
    "Andersen",
    "Ferreira",
    "Kim",
    "Hughes",
    "Romano",
    "Weber",
]
# A few display names in other scripts, as real workspaces have.
EXOTIC = ["李雷", "نور الهدى", "Σοφία Παππά", "Дарья Волкова", "김민준"]

PERSONAL_DOMAINS = ["gmail.com", "proton.me", "outlook.com"]


def ascii_slug(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text)
    out = "".join(c for c in norm if c.isascii() and (c.isalnum() or c in " -")).lower()
    return "-".join(out.replace("-", " ").split())


def make_people(
    rng: random.Random, n: int, org_domain: str, start: date, id_base: int, used: set[str]
) -> list[Person]:
    """`n` humans with consistent-but-messy accounts in all three tools."""
    people = []
    for i in range(n):
        while True:
            if rng.random() < 0.06:
                name = rng.choice(EXOTIC)
            else:
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if name not in used:
                used.add(name)
                break
        slug = ascii_slug(name) or f"user{id_base + i}"
        parts = slug.split("-")
        email = f"{parts[0]}.{parts[-1]}@{org_domain}" if len(parts) > 1 else f"{slug}@{org_domain}"
        if not email.split("@")[0].strip("."):
            email = f"user{id_base + i}@{org_domain}"
        num = id_base + i
        p = Person(
            pid=f"p{num:05d}",
            name=name,
            team=None,
            role="engineer",
            email=email,
            skill=round(rng.lognormvariate(0, 0.25), 3),
            joined_on=start,
        )
        _github_account(rng, p, parts, num)
        _jira_account(rng, p, num)
        _slack_account(rng, p, parts, num)
        people.append(p)
    return people


def _github_account(rng: random.Random, p: Person, parts: list[str], num: int) -> None:
    base = (parts[0][:1] + parts[-1]) if len(parts) > 1 else (parts[0] or f"dev{num}")
    style = rng.random()
    if style < 0.5:
        login = base
    elif style < 0.8:
        login = f"{'-'.join(parts)}"
    else:
        login = f"{parts[0]}{rng.randint(10, 99)}"
    p.github_login = f"{login or 'dev'}-{num}" if rng.random() < 0.1 else (login or f"dev{num}")
    p.github_login = p.github_login[:39]
    p.github_id = 1_000_000 + num
    r = rng.random()
    if r < 0.70:
        p.github_email, p.commit_email = p.email, p.email
    elif r < 0.85:  # personal address on profile and commits
        personal = f"{p.github_login}@{rng.choice(PERSONAL_DOMAINS)}"
        p.github_email, p.commit_email = personal, personal
    else:  # private profile email, GitHub noreply address on commits
        p.github_email = None
        p.commit_email = f"{p.github_id}+{p.github_login}@users.noreply.github.com"


def _jira_account(rng: random.Random, p: Person, num: int) -> None:
    p.jira_account_id = f"5f{rng.getrandbits(64):016x}{num:06x}"
    p.jira_name = p.name
    p.jira_email = p.email if rng.random() < 0.8 else None  # Cloud privacy settings hide some


def _slack_account(rng: random.Random, p: Person, parts: list[str], num: int) -> None:
    p.slack_id = f"U{num:04d}{rng.getrandbits(24):06X}"
    p.slack_real_name = p.name
    p.slack_name = parts[0] if rng.random() < 0.5 else ".".join(parts)
    p.slack_email = p.email if rng.random() < 0.92 else None


def _bot(pid: str, name: str, start: date, **accounts) -> Person:
    return Person(pid=pid, name=name, team=None, role="bot", email="", skill=0, joined_on=start,
                  is_bot=True, **accounts)


def make_bots(start: date) -> list[Person]:
    """The CI bot on GitHub and the reminder bot on Slack (Slackbot itself is built in)."""
    return [
        _bot("bot-ci", "ci-bot", start, github_login="ci-bot[bot]", github_id=41898282),
        _bot("bot-reminder", "PMTool Reminders", start, slack_id="U0BOTREM01",
             slack_name="pmtool-reminders", slack_real_name="PMTool Reminders"),
    ]


def family_bots(start: date) -> list[Person]:
    """The bots and service accounts every family organization has besides the demo's two:
    Dependabot on GitHub, Jira's automation account, a deploy bot on Slack."""
    return [
        _bot("bot-deps", "dependabot[bot]", start, github_login="dependabot[bot]",
             github_id=49699333),
        _bot("bot-jira", "Automation for Jira", start,
             jira_account_id="557058:f58131cb-b67d-43c7-b30d-6b58d40bd077",
             jira_name="Automation for Jira"),
        _bot("bot-deploy", "Deploy Bot", start, slack_id="U0BOTDEP01", slack_name="deploy-bot",
             slack_real_name="Deploy Bot"),
    ]


NICKNAMES = {
    "Alice": "Ali", "Bruno": "Bru", "Dmitri": "Dima", "Fatima": "Fati", "Giulia": "Giuli",
    "Gustav": "Gus", "Julia": "Jules", "Jonas": "Jo", "Łukasz": "Luke", "Mateo": "Teo",
    "Nadia": "Nadi", "Priya": "Pri", "Quentin": "Q", "Tomoko": "Tomo", "Viktor": "Vik",
    "Ximena": "Xime", "Yusuf": "Yus", "Ivan": "Vanya", "Sven": "Svenne", "Hiro": "Hiroshi",
}


def fold(text: str) -> str:
    """The name without accents, as ASCII-only systems and keyboards write it."""
    norm = unicodedata.normalize("NFKD", text)
    return "".join(c for c in norm if not unicodedata.combining(c)).replace("ł", "l").replace(
        "Ł", "L")


def vary_identities(people: list[Person], rng: random.Random, share: float) -> None:
    """Names that differ across tools, for `share` of the humans (family only): an accented
    name written without accents on the GitHub profile (commits keep the accents), a nickname
    in Slack and Jira, or commits from a personal e-mail the GitHub account does not show."""
    for p in people:
        if p.is_bot or rng.random() >= share:
            continue
        first = p.name.split()[0]
        options = ["private_email"]
        if fold(p.name) != p.name:
            options.append("accent")
        if first in NICKNAMES:
            options.append("nickname")
        kind = rng.choice(options)
        if kind == "accent":
            p.github_name, p.commit_name = fold(p.name), p.name
        elif kind == "nickname":
            nick = p.name.replace(first, NICKNAMES[first], 1)
            p.slack_real_name = nick
            p.jira_name = nick if rng.random() < 0.5 else p.jira_name
        else:
            local = ascii_slug(p.name).replace("-", "") or p.pid
            p.commit_email = f"{local}{rng.randint(1, 99)}@{rng.choice(PERSONAL_DOMAINS)}"
            if p.github_email == p.commit_email:
                p.github_email = None
