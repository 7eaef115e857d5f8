"""Remembers the digests of the last N counted records, so an exact re-delivery is counted once."""

from __future__ import annotations

from collections import deque


class RecentDigests:
    """A bounded FIFO set: :meth:`seen` answers "was this digest among the last ``capacity`` added?"."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._members: set[int] = set()
        self._order: deque[int] = deque()

    def seen(self, digest: int) -> bool:
        """True if ``digest`` is remembered; otherwise remember it (forgetting the oldest) and return False."""
        if digest in self._members:
            return True
        if self.capacity <= 0:
            return False
        self._members.add(digest)
        self._order.append(digest)
        if len(self._order) > self.capacity:
            self._members.discard(self._order.popleft())
        return False

    def __len__(self) -> int:
        return len(self._order)
