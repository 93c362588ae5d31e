"""How the domain's frozen value objects are written into stored events.

The stored form is a plain JSON object per value, named by class: renaming a field of a value
type is a schema change and needs an upcaster on the events that carry it.
"""

import dataclasses
import typing
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.values import EVENT_VALUE_TYPES


class FrozenValueAsDict(Transcoding):
    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = cls.__name__
        self._coercions = _coercions(cls)

    def encode(self, obj: Any) -> dict[str, Any]:
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**{k: self._coercions.get(k, _same)(v) for k, v in data.items()})


def register_value_types(transcoder: JSONTranscoder) -> None:
    for cls in EVENT_VALUE_TYPES:
        transcoder.register(FrozenValueAsDict(cls))


def _same(value: Any) -> Any:
    return value


def _coercions(cls: type[Any]) -> dict[str, typing.Callable[[Any], Any]]:
    """JSON turns tuples into lists and enums into strings; turn them back."""
    coercions: dict[str, typing.Callable[[Any], Any]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        if isinstance(hint, type) and issubclass(hint, Enum):
            coercions[name] = hint
        elif typing.get_origin(hint) is tuple:
            coercions[name] = tuple
    return coercions
