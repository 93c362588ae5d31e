"""Values that never change after they are made."""

from typing import Any, Self


class Immutable:
    """A frozen dataclass made only of immutable parts. Copying one is pointless: the
    aggregate cache deep-copies an incident for every command, and without this it walked
    every actor, request and resource line in it, a third of a command's Python time."""

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> Self:
        return self
