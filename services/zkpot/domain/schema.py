"""Base classes for wire messages: strict decoding, JSON-ready encoding, and the signing pattern.

Subclasses are frozen dataclasses. ``from_dict`` ignores unknown keys (an older node survives a newer sender),
fills fields that have defaults, and raises ``MalformedMessage`` on a missing key, a wrong type (``bool`` is
not ``int``), a negative integer, or a hex field that is not lower-case hex.
"""

import copy
import dataclasses
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from zkpot.domain.encoding import canonical, is_hex, sha256_hex
from zkpot.domain.errors import EncodingError, InvalidKey, MalformedMessage
from zkpot.domain.keys import SigningKey, verify_signature


class Message:
    """Mixin for frozen dataclasses that travel on the wire."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    HEX_FIELDS: ClassVar[frozenset[str]] = frozenset()
    """Fields (str or tuple of str) that must hold lower-case hex."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists, nested messages become dicts)."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        if not isinstance(d, Mapping):
            raise MalformedMessage(f"{cls.__name__}: expected an object, got {type(d).__name__}")
        hints = _type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in d:
                where = f"{cls.__name__}.{f.name}"
                kwargs[f.name] = _decode(where, hints[f.name], d[f.name], f.name in cls.HEX_FIELDS)
            elif f.default is dataclasses.MISSING:
                raise MalformedMessage(f"{cls.__name__}: missing field {f.name!r}")
        return cls(**kwargs)


class SignedMessage(Message):
    """A message signed by the key named in its ``SIGNER`` field; the signature covers all other fields."""

    SIGNER: ClassVar[str]
    signature: str

    def signing_payload(self) -> bytes:
        """Canonical bytes of every field except ``signature``."""
        d = self.to_dict()
        del d["signature"]
        return canonical(d)

    @property
    def payload_id(self) -> str:
        """sha256 of the signing payload, so the id does not depend on the signature bytes."""
        return sha256_hex(self.signing_payload())

    @property
    def signer(self) -> str:
        value: str = getattr(self, self.SIGNER)
        return value

    def sign(self, key: SigningKey) -> Self:
        """A copy carrying ``key``'s signature; ``key`` must be the signer named in the message."""
        if key.public_hex != self.signer:
            raise InvalidKey(f"{type(self).__name__}.{self.SIGNER} is not the key's public key")
        return dataclasses.replace(self, signature=key.sign(self.signing_payload()))

    def signature_valid(self) -> bool:
        return verify_signature(self.signer, self.signing_payload(), self.signature)


def _encode(value: object) -> object:
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return copy.deepcopy(value)
    if isinstance(value, str):
        return str(value)  # a StrEnum member (e.g. a Reason) goes out as its plain value
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _type_hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _decode(where: str, tp: Any, value: object, hex_field: bool) -> Any:
    origin = typing.get_origin(tp)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise MalformedMessage(f"{where}: expected a list, got {type(value).__name__}")
        item_type = typing.get_args(tp)[0]
        return tuple(_decode(f"{where}[{i}]", item_type, v, hex_field) for i, v in enumerate(value))
    if origin is dict:
        return _decode_object(where, value)
    if isinstance(tp, type) and issubclass(tp, Message):
        try:
            return tp.from_dict(typing.cast(Mapping[str, Any], value))
        except MalformedMessage as exc:
            raise MalformedMessage(f"{where}: {exc}") from exc
    if tp in (int, str, bool):
        return _decode_scalar(where, tp, value, hex_field)
    raise TypeError(f"{where}: no decoder for {tp!r}")


def _decode_scalar(where: str, tp: type, value: object, hex_field: bool) -> object:
    _require(where, value, tp)
    if tp is int and typing.cast(int, value) < 0:
        raise MalformedMessage(f"{where}: must not be negative")
    if hex_field and not is_hex(value):
        raise MalformedMessage(f"{where}: expected lower-case hex")
    return value


def _decode_object(where: str, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{where}: expected an object, got {type(value).__name__}")
    obj = dict(value)
    try:
        canonical(obj)
    except EncodingError as exc:
        raise MalformedMessage(f"{where}: {exc}") from exc
    return copy.deepcopy(obj)


def _require(where: str, value: object, tp: type) -> None:
    if type(value) is not tp:
        raise MalformedMessage(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
