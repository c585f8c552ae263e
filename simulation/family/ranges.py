"""The stated ranges the scenario family draws from: every nuisance and every effect, in one
place, with the reason (or the public source, in docs/simulation.md) behind each range.

These numbers were fixed before any detector was measured on the family. Change one only for
realism, with the reason in the commit message, never because a detector fails on it.
"""

from __future__ import annotations

# --- organizations ------------------------------------------------------------------------------

MONTHS = 12  # each member covers one year (holiday season and four quarters included)
TEAMS_PER_ORG = (3, 7)  # inclusive
TEAM_SIZE = (4, 15)  # people in a team, PM included (engineers = size - 1)
TEAM_SIZE_MEDIAN = 7.5  # lognormal around the common 5-9 ("two-pizza", Scrum's 3-9 developers)
TEAM_SIZE_SIGMA = 0.35

# --- people over the year -----------------------------------------------------------------------

ATTRITION_PER_YEAR = (0.08, 0.20)  # share of engineers leaving in a year (tech: ~13%)
GROWTH_PER_YEAR = (-0.05, 0.20)  # net headcount change; hires = leavers + growth
GHOST_ORG_SHARE = 0.5  # organizations where one leaver's GitHub account is deleted
ABSENCE = (0.02, 0.045)  # chance of a sick or single day off on an ordinary working day
# Leave comes in blocks (review #5: independent days averaged out): working days of leave a year
# in blocks of one to three weeks, half of the blocks in summer (mid-June to August).
VACATION_DAYS = (10, 25)
VACATION_BLOCK_WEEKS = (1, 3)
SUMMER_BLOCK_SHARE = 0.5
# New hires ramp up: they start at RAMP_START of their output, reach it after RAMP_DAYS calendar
# days, and an experienced teammate (a buddy) spends onboarding time with them meanwhile.
RAMP_DAYS = (30, 90)
RAMP_START = 0.3
BUDDY_WEIGHT = 0.8  # the buddy's weight for an onboarding session (30-60 min, invisible)
LEARN_WEIGHT = 3.0  # a new hire's weight for learning (docs, set-up, pairing), fading with ramp
PM_CHANGE_PER_YEAR = 0.2  # teams (not process-as-product) whose PM changes in the year
HOLIDAY_AWAY = (0.5, 0.85)  # extra chance of being away Dec 20 - Jan 2
IDENTITY_MESS = (0.05, 0.20)  # share of people whose names differ across tools

# time zones: UTC offsets in minutes of the places teams work from
ZONES = {"us-west": -480, "us-east": -300, "sao-paulo": -180, "london": 0, "berlin": 60,
         "bangalore": 330, "singapore": 480, "tokyo": 540}
ZONE_LAYOUTS = ((1, 0.5), (2, 0.3), (3, 0.2))  # (zones in the organization, share of orgs)
REMOTE_SHARE = (0.0, 0.3)  # share of a team living in another of the org's zones

# --- the work -----------------------------------------------------------------------------------

PLANNING_ORG_SHARE = 0.7  # organizations with a quarterly planning month
CRUNCH_WEEKS = (0, 3)  # release-crunch weeks per team and year
# Monthly workload (work per ticket) is autocorrelated with a slow drift, as real demand is:
# log load follows an AR(1) with stationary sd LOAD_SIGMA and lag-1 correlation LOAD_AR, plus a
# linear drift of LOAD_DRIFT (log units per year). Sized so the CV of customer items resolved
# per team-month approaches the public repositories' 0.24-0.61 (median 0.44); the measured
# figure is in benchmarks/RESULTS.md section 4.
LOAD_SIGMA = (0.35, 0.80)
LOAD_AR = (0.3, 0.7)
LOAD_DRIFT = (-0.4, 0.4)
CRUNCH_WEIGHTS = {"coding": 1.6, "open_pr": 1.3, "rework": 1.3, "chat": 0.4}  # crunch weeks
# --- team habits (sim-sources section 15: admin/status work is 5-15% of time, team to team) -----
GROOMING = (0.8, 5.0)  # the PM's baseline weight for backlog grooming (the demo's is 2.0)
PLANNING_GROOMING = 2.5  # planning months multiply grooming (the demo family used 5.0 / 2.0)
ESTIMATE_WEIGHT = 1.5  # an engineer's weight for estimating a ticket in a planning month
WEAK_LINKING_SHARE = 0.35  # teams that rarely put issue keys in commits, PRs, branches
KEY_IN_COMMIT_WEAK = (0.05, 0.35)
KEY_IN_COMMIT_GOOD = (0.60, 0.95)
MERGE_STYLES = (("squash", 0.40), ("merge", 0.35), ("rebase", 0.25))

# --- planted effects ----------------------------------------------------------------------------

KINDS = (("steady", 0.5), ("process_as_product", 0.25), ("amplifier", 0.25))
ONSET_MONTH = (2, 8)  # months after the window starts (0-based): at least 2 months of baseline
SMALL_MONTHS = 5  # the test subset: Sep-Jan
SMALL_TEAM_SIZE = 6  # five engineers and a PM: at the product's five-people rule
ONSET_MONTH_SMALL = (2, 2)  # the small subset: two baseline months before the onset
PROCESS_END_SHARE = 0.4  # the champion leaves and the tool is dropped
PROCESS_END_AFTER = (3, 6)  # months after onset
AMPLIFIER_END_SHARE = 0.25  # the practice is given up
AMPLIFIER_END_AFTER = (4, 7)
PROCESS_VARIANTS = (("tool", 0.7), ("ceremony", 0.3))
PROCESS_THROUGHPUT_SHARE = 0.5  # share of process effects that also slow delivery
SLOWDOWN = (1.15, 1.60)  # work per ticket multiplier: -13% to -38% items per person
ADOPTION_PEAK = (0.6, 0.95)  # share playing along in the first week
ADOPTION_FLOOR = (0.10, 0.35)  # where adoption settles under reminders
SCREEN_FIELDS = (1, 3)  # fields one save of the tool's edit screen sets
REMINDERS_SHARE = 0.85
NAG_SHARE = 0.5
STATUS_THREAD_SHARE = 0.7
SHEET_SHARE = 0.6
AMPLIFIER_VARIANTS = (("experiments", 0.35), ("review_agreement", 0.30), ("both", 0.35))
THROUGHPUT_GAIN = (0.10, 0.25)  # +10-25% customer items per person
WAIT_CUT = (0.15, 0.30)  # -15-30% review waits (review agreements)
PROCESS_GROOMING = 3.0  # a process that became the product triples the PM's grooming
ADOPTION_DECAY_WEEKS = 16  # the mandated tool's adoption decays with this time constant
PRACTICE_SETTLE_WEEKS = 2  # an amplifying practice takes two weeks to settle
# A team that adopted declared experiments proposes about one per engineer every month or two
# (the demo's rate is about one per engineer a year); not grounded in a source.
EXPERIMENT_GATE = 0.03
PROCESS_EXPERIMENTS_SHARE = 0.25  # process-as-product teams that also declare experiments

# --- negative controls: organic changes of steady teams that must not change the verdict -------
# Real teams adopt tools, bots and practices that help without the process becoming the product
# (sim-sources; review #1); without them every artefact would label its planted kind.
PLACEBO_SHARE = 0.4  # steady teams with a placebo change
PLACEBO_VARIANTS = (("tool", 0.5), ("experiments", 0.5))
PLACEBO_ADOPTION = (0.5, 0.95)  # chance a taken ticket gets the tool's fields (no decay)
# Steady teams with a daily Slack /remind in their standup channel (Slack's built-in reminders;
# standup bots): half from before the window, half arriving at a placebo-like onset. It reaches
# everyone who writes in the channel and asks for no new work, so "process work that followed a
# reminder" rises with nothing about the process changed. Drawn from a stream of its own, so the
# rest of each member is as before; the share is not grounded in a source.
REMINDER_BOT_SHARE = 0.3
REMINDER_BOT_FROM_START = 0.5

# --- names --------------------------------------------------------------------------------------

TEAM_NAMES = ["atlas", "borealis", "cobalt", "delta", "ember", "fjord", "garnet", "helios",
              "indigo", "juniper", "krypton", "lumen", "meridian", "nova", "orion", "pulsar",
              "quartz", "raven", "sierra", "tundra", "umbra", "vertex", "willow", "xenon"]
ORG_NAMES = ["globex", "initech", "hooli", "vandelay", "tyrell", "cyberdyne", "soylent",
             "wonka", "aperture", "massive", "oscorp", "gringotts", "nakatomi", "duff"]
PRODUCTS = ["checkout", "billing", "search", "onboarding", "payments", "catalog", "ledger",
            "notifications", "identity", "reporting", "inventory", "shipping", "pricing",
            "messaging", "scheduler", "analytics", "storefront", "accounts", "booking", "media",
            "loyalty", "support", "mobile", "gateway"]
TOOLS = ["PMTool", "Roadmapr", "StatusHub", "Pulsecheck", "Trackly", "OKRify"]
# The tool's footprint differs from org to org (review #1: it was always the demo's, so it named
# the product's own recorded scope): its fields, statuses and issue type are drawn per org from
# names such tools use; the first of each pool is the demo's. Field ids stay the same.
FOOTPRINT = {
    "customfield_10100": ["Business Value", "Value Score", "Strategic Value", "WSJF Score"],
    "customfield_10101": ["Initiative", "Objective", "Theme", "Key Result"],
    "customfield_10102": ["Confidence", "Certainty", "Risk Level", "Delivery Confidence"],
    "customfield_10400": ["Progress", "Percent Complete", "Completion", "Health"],
    "Needs Business Value": ["Needs Business Value", "Needs Prioritization", "Pending Triage",
                             "Awaiting Scoring"],
    "Ready for Estimation": ["Ready for Estimation", "Ready for Sizing", "Refined",
                             "Ready for Planning"],
    "Awaiting PM Review": ["Awaiting PM Review", "PM Acceptance", "Pending Sign-off",
                           "Product Review"],
    "Initiative": ["Initiative", "Objective", "Program", "Theme"],
}
BOT_NAMES = ["{tool} Reminders", "{tool} Bot", "{tool}", "{tool} Notifications"]
CHANNEL_SCHEMES = {
    "prefix": {"eng": "eng-{t}", "support": "support-{t}", "standup": "standup-{t}"},
    "suffix-dev": {"eng": "{t}-dev", "support": "{t}-support", "standup": "{t}-standup"},
    "suffix-eng": {"eng": "{t}-eng", "support": "{t}-help", "standup": "{t}-daily"},
    "team-prefix": {"eng": "team-{t}", "support": "{t}-help", "standup": "{t}-sync"},
}
REPO_SCHEMES = ("{t}-app", "{t}", "{t}-service", "{p}-web", "{p}-api", "{p}")
LABELS = {"customer": ["customer", "customer-facing", "cust", "customer-request"],
          "tech-debt": ["tech-debt", "techdebt", "debt", "refactoring"],
          "infra": ["infra", "infrastructure", "ops"]}
