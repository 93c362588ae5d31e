"""How the domain's events and frozen value objects are written into and read from the log.

The stored form is a plain JSON object per value, named by class: renaming a field of a value
type is a schema change and needs an upcaster on the events that carry it.
"""

import dataclasses
import typing
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent, Transcoding

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


class TypedEventMapper(Mapper[UUID]):
    """Restores an event's own fields to their declared types, as FrozenValueAsDict does for
    the values inside it, so an event read back equals the event saved."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coercions: dict[type[Any], dict[str, typing.Callable[[Any], Any]]] = {}

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        cls = type(event)
        if cls not in self._coercions:
            self._coercions[cls] = _coercions(cls)
        fields = vars(event)
        for name, coerce in self._coercions[cls].items():
            if name in fields:
                fields[name] = coerce(fields[name])
        return event


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
