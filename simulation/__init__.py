"""A synthetic organization with known truth, and loopback emulators of GitHub, Jira and Slack.

Knows nothing of processhealth's collectors or analysis: it speaks only the three public APIs.
"""

from .model import Org
from .org import OrgSpec, TeamSpec, generate_org, generate_people

__all__ = ["Org", "OrgSpec", "TeamSpec", "generate_org", "generate_people"]
