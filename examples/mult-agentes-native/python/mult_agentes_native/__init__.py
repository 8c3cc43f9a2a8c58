"""Count the tokens of agents' prompts and answers, fast: the counting is
done in Rust (``mult_agentes_native._native``)."""

from __future__ import annotations

from typing import Iterable, List

from ._native import count_tokens

__all__ = ["count_tokens", "fits", "__version__"]

__version__ = "0.1.0"


def fits(texts: Iterable[str], budget: int) -> List[str]:
    """The leading texts whose tokens together stay within ``budget``.

    Stops at the first text that would overflow it, so the order of a
    conversation is kept.
    """
    if budget < 0:
        raise ValueError(f"the budget must not be negative, got {budget}")
    kept: List[str] = []
    used = 0
    for text in texts:
        used += count_tokens(text)
        if used > budget:
            break
        kept.append(text)
    return kept
