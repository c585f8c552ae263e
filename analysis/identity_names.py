"""The forms of names, logins and email addresses that identity evidence compares, for
`analysis.identity_match` (which ties accounts to people by them): clean addresses, display-name
keys, the login forms of a name, first names that are nicknames of each other, and names that
name a machine. Pure string functions.
"""

from __future__ import annotations

import re
import unicodedata

_NOREPLY = re.compile(r"@users\.noreply\.github\.com$", re.I)
_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE",
                           "ß": "ss", "đ": "d", "Đ": "D", "þ": "th", "ı": "i"})
_AUTOMATION_WORDS = {"bot", "bots", "robot", "automation", "automations", "automated", "service",
                     "svc", "system", "integration", "integrations", "deploy",
                     "deployer", "deployment", "noreply", "webhook", "scheduler", "reminder",
                     "reminders", "notifications", "notifier", "alerts"}


def clean_email(email: str | None) -> str | None:
    """Lower-case address, or None for empty and GitHub noreply addresses (not a person's mail)."""
    if not email or "@" not in email or _NOREPLY.search(email.strip()):
        return None
    return email.strip().lower()


def name_tokens(name: str | None, translit: bool = True) -> list[str]:
    """ASCII word tokens of a name: 'Zoë O'Brien' -> ['zoe', 'obrien']."""
    if not name:
        return []
    text = name.translate(_TRANSLIT) if translit else name
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if c.isascii() and not unicodedata.combining(c)).lower()
    text = re.sub(r"[\s._-]+", " ", text)
    return [t for t in (re.sub(r"[^a-z0-9 ]", "", text)).split() if t]


def name_key(name: str | None) -> str | None:
    """Order-, case- and accent-insensitive key of a display name; non-Latin names kept as is."""
    tokens = name_tokens(name)
    if tokens:
        return " ".join(sorted(tokens))
    folded = " ".join(unicodedata.normalize("NFKC", name or "").casefold().split())
    return folded or None


def login_keys(text: str | None) -> set[str]:
    """Comparable forms of a login or email name: 'Al-Smith-105' -> {alsmith105, alsmith}."""
    if not text:
        return set()
    low = text.lower().removesuffix("[bot]").split("@")[0].split("+")[0]
    keys = {re.sub(r"[^a-z0-9]", "", low), re.sub(r"[^a-z0-9]", "", re.sub(r"[-_.]?\d+$", "", low))}
    return {k for k in keys if len(k) >= 3}


def name_forms(name: str | None) -> tuple[set[str], set[str]]:
    """(strong, weak) login forms of a name: alicesmith, asmith, smithalice, ...; weak: alice."""
    strong: set[str] = set()
    weak: set[str] = set()
    for translit in (True, False):
        t = name_tokens(name, translit)
        if len(t) >= 2:
            first, last = t[0], t[-1]
            strong |= {"".join(t), first + last, first[0] + last, last + first, first + last[0],
                       first[0] + "".join(t[1:])}
        if t and len(t[0]) >= 3:
            weak.add(t[0])
    return strong, weak


def slug(text: str) -> str:
    return "-".join(name_tokens(text))


def automation_shaped(text: str | None) -> bool:
    """A login or display name that names a machine: a word such as bot, automation, service,
    svc, ci, jenkins, deploy, noreply, reminders, notifications ("Automation for Jira",
    "svc-deploy", "jenkins-ci", "PMTool Reminders"); whole words only, so Talbot is a person."""
    words = re.split(r"[^a-z0-9]+", (text or "").lower().removesuffix("[bot]"))
    return bool(_AUTOMATION_WORDS & set(words)) or (text or "").lower().endswith("[bot]")


# Well-known diminutives that share no prefix with the name (first names, ASCII-folded). Prefix
# forms (Alex, Gus, Tomo, Jo) need no entry: see `nickname_of`.
DIMINUTIVES = [
    {"robert", "bob", "bobby", "rob", "robbie", "bert"}, {"william", "bill", "billy", "will"},
    {"richard", "dick", "rick", "ricky", "rich"}, {"margaret", "peggy", "maggie", "meg"},
    {"elizabeth", "liz", "beth", "betty", "eliza", "lisa"}, {"james", "jim", "jimmy", "jamie"},
    {"john", "jack", "johnny", "jon"}, {"edward", "ted", "ed", "eddie", "ned"},
    {"charles", "chuck", "charlie"}, {"henry", "harry", "hank"}, {"anthony", "tony"},
    {"katherine", "catherine", "kate", "katie", "kathy", "cathy"}, {"dmitri", "dmitry", "dima"},
    {"ivan", "vanya"}, {"alexander", "aleksandr", "sasha", "alex"}, {"mikhail", "misha"},
    {"yevgeny", "evgeny", "zhenya"}, {"ekaterina", "katya"}, {"lukasz", "luke", "lucas"},
    {"francisco", "paco", "pancho"}, {"jose", "pepe"}, {"giuseppe", "beppe", "peppe"},
    {"johannes", "hannes", "hans"}, {"susan", "sue", "susie"}, {"patricia", "patty", "trish"},
]
_DIMINUTIVE = {name: i for i, group in enumerate(DIMINUTIVES) for name in group}


def nickname_of(a: str, b: str) -> bool:
    """Two different first names (ASCII-folded) of one person: one a prefix of the other (Jo and
    Jonas, Tomo and Tomoko), the same first three letters (Jules and Julia, Luke and Lukasz), or
    listed together in DIMINUTIVES (Dima and Dmitri)."""
    if a == b or not a or not b:
        return False
    short, long_ = sorted((a, b), key=len)
    return ((len(short) >= 2 and long_.startswith(short)) or (len(short) >= 3 and a[:3] == b[:3])
            or (a in _DIMINUTIVE and _DIMINUTIVE[a] == _DIMINUTIVE.get(b)))
