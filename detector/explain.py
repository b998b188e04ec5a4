"""Explanations carried by every transition: what was seen, what was expected, why, where."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from detector.types import BucketContext, Status, Transition


def top_keys(counts: Mapping[str, float], k: int = 3) -> tuple[str, ...]:
    """The ``k`` largest keys of ``counts`` (ties broken by name, so output is deterministic).

    >>> top_keys({"login": 5, "history": 9, "api": 5, "other": 1}, k=3)
    ('history', 'api', 'login')
    """
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(name for name, v in ranked[:k] if v > 0)


@dataclass(frozen=True)
class Facts:
    """Numbers of one service at one transition."""

    started_at: float
    detected_at: float
    observed: float
    expected: float
    upper: float
    score: float
    p_value: float
    signals: tuple[str, ...]
    state: str


def make_transition(incident: str, service: str, status: Status, facts: Facts,
                    context: BucketContext | None, related: tuple[str, ...]) -> Transition:
    """Assemble a `Transition` from the numbers and the bucket's context."""
    ctx = context or BucketContext()
    return Transition(
        incident_id=incident, service=service, status=status,
        started_at=facts.started_at, detected_at=facts.detected_at,
        resolved_at=facts.detected_at if status == "resolved" else None,
        observed=facts.observed, expected=facts.expected, upper=facts.upper,
        score=facts.score, p_value=facts.p_value, signals=facts.signals,
        sources=top_keys(ctx.sources, 5), top_categories=top_keys(ctx.categories),
        top_regions=top_keys(ctx.regions), related=related, state=facts.state,
    )
