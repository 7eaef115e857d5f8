"""Synthetic developers: identity (how Codex reports who they are), habits and tools of choice."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from typing import Literal

# How Codex reports a person:
#  chatgpt       ChatGPT login: user.email and user.account_id on every event
#  account-only  ChatGPT login whose token has no email: user.account_id only
#  apikey        API key: nothing on the event; the admin adds user.email as a resource attribute
Identity = Literal["chatgpt", "account-only", "apikey"]
_IDENTITY_CYCLE: tuple[Identity, ...] = (
    "chatgpt",
    "chatgpt",
    "apikey",
    "chatgpt",
    "account-only",
    "chatgpt",
    "apikey",
    "chatgpt",
    "chatgpt",
    "apikey",
)

MODELS: tuple[tuple[str, float], ...] = (
    ("gpt-5.1-codex", 0.40),
    ("gpt-5-codex", 0.25),
    ("gpt-5.1-codex-mini", 0.20),
    ("o4-mini", 0.15),
)
TERMINALS: tuple[tuple[str, float], ...] = (
    ("vscode", 0.30),
    ("iTerm.app", 0.22),
    ("xterm-256color", 0.18),
    ("WezTerm", 0.10),
    ("Apple_Terminal", 0.08),
    ("tmux-256color", 0.07),
    ("ghostty", 0.05),
)
APP_VERSIONS: tuple[tuple[str, float], ...] = (("0.169.0", 0.7), ("0.168.0", 0.3))
_FIRST = (
    "alice",
    "bob",
    "carol",
    "dan",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "yara",
    "zoe",
    "quinn",
    "uma",
    "leo",
)
_LAST = (
    "smith",
    "jones",
    "garcia",
    "chen",
    "kumar",
    "novak",
    "silva",
    "muller",
    "rossi",
    "tanaka",
    "okafor",
    "larsen",
    "dubois",
    "kowalski",
    "haddad",
    "ivanova",
)


@dataclass(frozen=True)
class Developer:
    index: int
    identity: Identity
    email: str
    account_id: str
    host: str
    terminal: str
    model: str  # favourite model; other models appear in some conversations
    websocket: bool  # uses the Responses WebSocket transport
    approval_policy: str  # "never": decisions come from Config; "on-request": some are asked of the User
    app_version: str
    activity: float  # conversations per working day relative to the fleet's mean
    shift_hours: float  # personal shift of the working day
    joins_day: float  # days after the range start when they join (0: active from the start)

    @property
    def user_label(self) -> str:
        """The user label in the default email mode (for people reading the output)."""
        return self.account_id if self.identity == "account-only" else self.email


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    """A value drawn by weight."""
    values, cumulative = _split(weighted)
    return rng.choices(values, cum_weights=cumulative)[0]


@cache
def _split(weighted: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    return [v for v, _ in weighted], list(accumulate(w for _, w in weighted))


def make_developers(count: int, days: float, seed: int, late_joiner_share: float) -> list[Developer]:
    """``count`` developers; the last ``late_joiner_share`` of them first appear mid-range."""
    late = math.ceil(count * late_joiner_share) if count > 2 else 0
    return [_developer(i, days, seed, late_joiner=i >= count - late) for i in range(count)]


def _developer(index: int, days: float, seed: int, late_joiner: bool) -> Developer:
    rng = random.Random(f"{seed}:developer:{index}")
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return Developer(
        index=index,
        identity=_IDENTITY_CYCLE[index % len(_IDENTITY_CYCLE)],
        email=f"{first}.{last}{index}@example.com",
        account_id=f"acct-{rng.getrandbits(64):016x}",
        host=f"{first}-{rng.choice(('mbp', 'laptop', 'dev', 'ws'))}-{index}",
        terminal=pick(rng, TERMINALS),
        model=pick(rng, MODELS),
        websocket=rng.random() < 0.3,
        approval_policy="on-request" if rng.random() < 0.6 else "never",
        app_version=pick(rng, APP_VERSIONS),
        activity=min(3.0, rng.lognormvariate(0.0, 0.45)),
        shift_hours=rng.uniform(-1.5, 1.5),
        joins_day=rng.uniform(0.35, 0.6) * days if late_joiner else 0.0,
    )
