"""Run several agents over one task and collect their answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Iterable

__all__ = ["Agent", "run_all", "__version__"]

__version__ = "0.1.0"


@dataclass(frozen=True)
class Agent:
    """A named function from a task to an answer."""

    name: str
    act: Callable[[str], str]


def run_all(agents: Iterable[Agent], task: str) -> Dict[str, str]:
    """Run every agent on ``task``; answers keyed by agent name.

    Two agents with the same name are a mistake, not a silent overwrite.
    """
    answers: Dict[str, str] = {}
    for agent in agents:
        if agent.name in answers:
            raise ValueError(f"two agents are named {agent.name!r}")
        answers[agent.name] = agent.act(task)
    return answers
