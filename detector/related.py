"""Related incidents: services whose incidents open within a few minutes of each other.

An upstream or cloud outage lights up many services at once; linking incidents that open
within ``window_seconds`` of each other (event time) lets a reader see one cause. Links are
symmetric: the earlier incidents learn about the later one and report it on their next
transition. State is small (recent openings and links of live incidents) and JSON-exportable.
"""

from __future__ import annotations

import json


class RelatedTracker:
    """Remembers recent openings and links incidents that open close together.

    >>> r = RelatedTracker(window_seconds=300)
    >>> r.opened("api", "i1", 1000.0), r.opened("sora", "i2", 1120.0)
    ((), ('api',))
    >>> r.related("i1"), r.opened("codex", "i3", 1500.0)
    (('sora',), ())
    """

    def __init__(self, window_seconds: float = 300.0, max_links: int = 20) -> None:
        self.window_seconds = window_seconds
        self.max_links = max_links  # bounds memory and work when a cloud outage hits thousands
        self._recent: list[tuple[float, str, str]] = []  # (detected_at, service, incident_id)
        self._links: dict[str, list[str]] = {}

    def opened(self, service: str, incident: str, t: float) -> tuple[str, ...]:
        """Record an opening at event time ``t`` and return the services it is related to."""
        recent = [r for r in self._recent if t - r[0] <= self.window_seconds]
        peers = [r for r in recent if r[1] != service]
        mine = self._links.setdefault(incident, [])
        for _, other, other_id in peers[-self.max_links:]:
            if other not in mine:
                mine.append(other)
            links = self._links.setdefault(other_id, [])
            if service not in links and len(links) < self.max_links:
                links.append(service)
        self._recent = (recent + [(t, service, incident)])[-self.max_links:]
        return tuple(mine)

    def related(self, incident: str) -> tuple[str, ...]:
        """Services linked to ``incident`` so far."""
        return tuple(self._links.get(incident, ()))

    def closed(self, incident: str) -> None:
        """Forget the links of a resolved incident."""
        self._links.pop(incident, None)

    def to_json(self) -> str:
        return json.dumps({"recent": self._recent, "links": self._links}, sort_keys=True)

    def load_json(self, text: str) -> None:
        data = json.loads(text)
        self._recent = [(float(t), str(s), str(i)) for t, s, i in data["recent"]]
        self._links = {k: list(v) for k, v in data["links"].items()}
