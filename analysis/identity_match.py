"""Identity resolution: which GitHub, Jira and Slack accounts are one person.

Evidence, strongest first; the first that ties an account is recorded in `identities.matched_by`:
1. `csv` — the people.csv file users keep in version control ([people] csv); it wins over all else;
2. `config` — explicit [[people.mappings]];
3. `email` — the same address on accounts in different tools (GitHub noreply addresses excluded);
4. `name` — the same display name (accents, case and word order ignored);
5. `login` — a login or email name that is a usual form of the person's name (asmith, alice-smith,
   alice.smith, alice42 when Alice is the only Alice);
6. `nickname` — the same surname and first names that are forms of each other (Bob/Robert, Dima/
   Dmitri), when each is the other's only such match.
A bot or automation account is recorded as `bot` and GitHub's deleted user ("ghost") as `deleted`,
whatever tied them; an account nothing ties is `unmatched` (the table: docs/metrics.md section 0,
"People").
Heuristics never merge two accounts of the same tool, never cross an explicit mapping, and skip any
evidence that points at more than one person, so they can leave an account unmatched but should not
merge two people. Bots stay people of their own. Every account gets a person: an `unmatched`
account is a person of its own (its activity still counts), listed by `processhealth people
--unmatched` for review.

Pure: accounts in, people out. The forms of names, logins and emails the evidence compares
(and the nicknames, and names that name a machine) are in `analysis.identity_names`. Reading
identities from the database, writing people and person ids back, and people.csv live in
`analysis.identity`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analysis.identity_names import (
    automation_shaped,
    clean_email,
    login_keys,
    name_forms,
    name_key,
    name_tokens,
    nickname_of,
    slug,
)

SOURCE_ORDER = ("jira", "slack", "github")  # where display names and emails are most reliable
_SLACK_BOT_IDS = {"USLACKBOT"}
GHOST_ID = "10137"  # GitHub's deleted-user account


@dataclass(frozen=True)
class Account:
    source: str
    uid: str
    login: str | None = None
    email: str | None = None
    name: str | None = None
    is_bot: bool = False

    @property
    def key(self) -> str:
        return f"{self.source}:{self.uid}"

    @property
    def tool(self) -> str:
        """The tool whose accounts are never merged with each other: a commit identity GitHub
        tied to no account ("github:email:<address>") is `git`, of which a person may have
        several (work and private addresses)."""
        return "git" if self.source == "github" and self.uid.startswith("email:") else self.source


@dataclass(frozen=True)
class Resolved:
    person_id: str
    matched_by: str


@dataclass(frozen=True)
class Person:
    person_id: str
    display_name: str
    email: str | None
    is_bot: bool


# --- bots and GitHub's deleted user ---------------------------------------------------------


def is_deleted_account(a: Account) -> bool:
    """GitHub's stand-in for deleted users ("ghost", id 10137): several people at once, none of
    them any more; it belongs to no one and to no team."""
    return a.source == "github" and (a.uid == GHOST_ID or (a.login or "").lower() == "ghost")


def is_bot_account(a: Account, bot_names: Iterable[str] = ()) -> bool:
    """Flagged by its tool (GitHub type Bot, Jira accountType app or customer, Slack is_bot),
    named like a GitHub app, a Slack bot or an automation (`automation_shaped`), GitHub's deleted
    user, or listed in [people] bots (by login, display name or account id, case ignored)."""
    names = {n.lower() for n in bot_names}
    login = (a.login or "").lower()
    return (a.is_bot or login.endswith("[bot]") or a.uid in _SLACK_BOT_IDS
            or (a.source == "slack" and a.uid.startswith("B")) or is_deleted_account(a)
            or automation_shaped(a.login) or automation_shaped(a.name)
            or bool(names & {login, (a.name or "").lower(), a.uid.lower()}))


# --- clusters of accounts -------------------------------------------------------------------


class _Clusters:
    """Union-find over account keys that refuses merges heuristics must not make."""

    def __init__(self, accounts: list[Account]) -> None:
        self.parent = {a.key: a.key for a in accounts}
        self.members: dict[str, list[Account]] = {a.key: [a] for a in accounts}
        self.pinned: dict[str, str] = {}  # root -> person from csv/config
        self.how: dict[str, str] = {}  # account key -> matched_by

    def find(self, key: str) -> str:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def can_join(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        pa, pb = self.pinned.get(ra), self.pinned.get(rb)
        if pa and pb and pa != pb:
            return False
        tools_a = {m.tool for m in self.members[ra]} - {"git"}
        return not tools_a & {m.tool for m in self.members[rb]}

    def join(self, a: str, b: str, how: str) -> None:
        ra, rb = self.find(a), self.find(b)
        for key in (a, b):
            self.how.setdefault(key, how)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        if rb in self.pinned:
            self.pinned[ra] = self.pinned.pop(rb)

    def roots(self) -> list[str]:
        return sorted(self.members, key=lambda r: min(m.key for m in self.members[r]))


def _pin(cl: _Clusters, accounts: list[Account], rows: Sequence[Mapping[str, Any]],
         how: str) -> list[str]:
    """Tie the accounts each mapping row names to its person, before any heuristic runs; returns
    the references that matched no account (for the review listing)."""
    by_ref: dict[tuple[str, str], list[Account]] = defaultdict(list)
    for a in accounts:
        for ref in (a.uid, a.login):
            if ref and not (a.source == "github" and ref == "ghost"):
                by_ref[(a.source, ref.lower())].append(a)
        if clean_email(a.email):
            by_ref[("email", clean_email(a.email) or "")].append(a)
    unused = []
    for row in rows:
        person = str(row.get("person") or "").strip()
        for source in ("github", "jira", "slack", "email") if person else ():
            ref = str(row.get(source) or "").strip()
            found = by_ref.get((source, ref.lower()), []) if ref else []
            if ref and not found:
                unused.append(f"{person}: {source} {ref}")
            for a in found:
                if a.key in cl.how:
                    continue  # already pinned by an earlier row (people.csv comes first)
                cl.how[a.key] = how
                root = next((r for r, p in cl.pinned.items() if p == person), None)
                if root is None:
                    cl.pinned[cl.find(a.key)] = person
                else:
                    cl.join(root, a.key, how)  # explicit: may hold two accounts of one tool
    return unused


def _by_evidence(cl: _Clusters, groups: Mapping[str, list[Account]], how: str) -> None:
    for _, group in sorted(groups.items()):
        tools = [a.tool for a in group if a.tool != "git"]
        if len(tools) != len(set(tools)):
            continue  # the same evidence on two accounts of one tool: ambiguous
        first = group[0]
        for other in group[1:]:
            if cl.can_join(first.key, other.key):
                cl.join(first.key, other.key, how)


def _email_names(a: Account, shared: set[str]) -> set[str]:
    """Login forms of an account's email name, unless the address is shared (a team mailbox)."""
    email = clean_email(a.email)
    return login_keys(email.split("@")[0]) if email and email not in shared else set()


def _login_forms(cl: _Clusters, bots: set[str], weak: bool, shared: set[str],
                 ) -> dict[str, set[str]]:
    """form -> clusters whose names (or email names) give that login form."""
    forms: dict[str, set[str]] = defaultdict(set)
    for root, members in cl.members.items():
        for m in members:
            if m.key in bots:
                continue
            strong, first_names = name_forms(m.name)
            if not weak:
                strong |= _email_names(m, shared)
            for form in first_names if weak else strong:
                forms[form].add(root)
    return forms


def _by_login(cl: _Clusters, bots: set[str], weak: bool, shared: set[str]) -> bool:
    """Tie lone accounts whose login names exactly one person who has no account in that tool
    yet. Weak forms (a first name alone) are tried only after every strong form."""
    forms = _login_forms(cl, bots, weak, shared)
    changed = False
    for root in cl.roots():
        if len(cl.members.get(root, [])) != 1 or root in bots or root in cl.pinned:
            continue  # only accounts not yet tied to anyone look for a person by login
        a = cl.members[root][0]
        if a.source == "github" and a.login == "ghost":
            continue  # every deleted GitHub user shows up as "ghost"
        keys = login_keys(a.login) | _email_names(a, shared)
        per_key = [{cl.find(r) for r in forms.get(k, ()) if cl.can_join(r, a.key)} for k in keys]
        hits = set().union(*per_key)
        if len(hits) == 1 and all(len(h) <= 1 for h in per_key):
            cl.join(hits.pop(), a.key, "login")
            changed = True
    return changed


def _by_nickname(cl: _Clusters, bots: set[str]) -> bool:
    """Tie two people whose names have the same surname and first names that are nickname forms
    of each other, when each is the other's only such match (and no tool holds both)."""
    names: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for root, members in cl.members.items():
        for m in members:
            tokens = name_tokens(m.name)
            if m.key not in bots and len(tokens) >= 2:
                names[root].add((tokens[0], tokens[-1]))
    by_surname: dict[str, set[str]] = defaultdict(set)
    for root, pairs in names.items():
        for _, last in pairs:
            by_surname[last].add(root)
    def matches(root: str) -> set[str]:
        return {other for first, last in names[root] for other in by_surname[last]
                if other != root and any(last == l2 and nickname_of(first, f2)
                                         for f2, l2 in names[other])}
    changed = False
    for root in sorted(names):
        if root not in cl.members or root in cl.pinned:
            continue
        found = matches(root)
        if len(found) != 1:
            continue
        other = found.pop()
        if other in cl.members and matches(other) == {root} and cl.can_join(root, other):
            cl.join(other, root, "nickname")
            changed = True
    return changed


def resolve(accounts: list[Account], csv_rows: Sequence[Mapping[str, Any]] = (),
            mappings: Sequence[Mapping[str, Any]] = (), bot_names: Iterable[str] = (),
            ) -> tuple[dict[str, Resolved], list[Person], list[str]]:
    """account key -> (person, how); the people; mapping references that matched no account."""
    accounts = sorted(accounts, key=lambda a: a.key)
    bots = {a.key for a in accounts if is_bot_account(a, bot_names)}
    humans = [a for a in accounts if a.key not in bots]
    cl = _Clusters(accounts)
    unused = _pin(cl, humans, csv_rows, "csv") + _pin(cl, humans, mappings, "config")
    by_email: dict[str, list[Account]] = defaultdict(list)
    by_name: dict[str, list[Account]] = defaultdict(list)
    for a in humans:
        if clean_email(a.email):
            by_email[clean_email(a.email) or ""].append(a)
        if name_key(a.name):
            by_name[name_key(a.name) or ""].append(a)
    _by_evidence(cl, by_email, "email")
    _by_evidence(cl, by_name, "name")
    shared = {email for email, group in by_email.items()  # on two accounts of one tool
              if len({a.source for a in group}) < len(group)}
    for weak in (False, True):
        while _by_login(cl, bots, weak, shared):
            pass
        if not weak:
            while _by_nickname(cl, bots):
                pass
    names = {str(r["person"]): str(r["display_name"]) for r in csv_rows
             if r.get("person") and r.get("display_name")}
    return _people(cl, bots, names) + (unused,)


def _people(cl: _Clusters, bots: set[str], csv_names: Mapping[str, str],
            ) -> tuple[dict[str, Resolved], list[Person]]:
    resolved: dict[str, Resolved] = {}
    people: list[Person] = []
    taken: set[str] = set(cl.pinned.values())  # generated ids never take a mapped person's id
    for root in cl.roots():
        members = sorted(cl.members[root],
                         key=lambda m: (SOURCE_ORDER.index(m.source)
                                        if m.source in SOURCE_ORDER else 9, m.key))
        is_bot = all(m.key in bots for m in members)
        named = next((m.name for m in members if m.name), None) or \
            next((m.login for m in members if m.login), None)
        display = named or members[0].key
        email = next((clean_email(m.email) for m in members if clean_email(m.email)), None)
        person_id = cl.pinned.get(root)
        if person_id is None:
            base = members[0].key if is_bot else (slug(named or "") or (email or "").split("@")[0]
                                                  or members[0].key)
            person_id, n = base, 1
            while person_id in taken:
                n += 1
                person_id = f"{base}-{n}"
        display = csv_names.get(person_id) or display
        taken.add(person_id)
        people.append(Person(person_id, display, email, is_bot))
        for m in members:
            how = ("deleted" if is_deleted_account(m) else "bot" if m.key in bots
                   else cl.how.get(m.key) or "unmatched")
            resolved[m.key] = Resolved(person_id, how)
    return resolved, people
