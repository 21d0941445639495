"""Base classes for wire messages: strict, bounded decoding, JSON-ready encoding, and the signing pattern.

Subclasses are frozen dataclasses. ``from_dict`` ignores unknown keys (an older node survives a newer sender),
fills fields that have defaults, and raises ``MalformedMessage`` on a missing key, a wrong type (``bool`` is
not ``int``), a negative integer, a hex field that is not lower-case hex, a value over its ``Bound`` (checked
before anything is built from it), or any other failure while decoding: bad input never raises a retryable error.

Every field has a ``Bound``: the class default below unless the message declares one in ``BOUNDS``. A str has at
most ``chars`` characters (exactly one of ``lengths`` when given) and, unless it is a hex field, is printable ASCII
without ``"`` or ``\\``, so its JSON encoding is its length plus two quotes; a tuple has at most ``items`` items; an
int lies in ``0..max``; an opaque object (``dict``) nests at most ``depth`` deep, has at most ``entries`` keys and
list items in all, and encodes canonically in at most ``nbytes`` bytes.
"""

import copy
import dataclasses
import re
import typing
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, Self

from zkpot.domain.encoding import canonical, is_hex, sha256_hex
from zkpot.domain.errors import EncodingError, InvalidKey, MalformedMessage, Unauthorized
from zkpot.domain.keys import SigningKey, verify_signature
from zkpot.domain.reasons import Reason

MAX_CHARS = 256
MAX_ITEMS = 64
MAX_INT = 2**63 - 1  # a signed 64-bit integer: what PostgreSQL's BIGINT and every other party can hold
MAX_DEPTH = 8
MAX_ENTRIES = 1024
MAX_OBJECT_BYTES = 32 * 1024

_TOKEN = re.compile(r'[ !#-\[\]-~]*')  # printable ASCII except " and \


@dataclasses.dataclass(frozen=True)
class Bound:
    """The size bounds of one field (see the module docstring); each applies only to values of its kind."""

    chars: int = MAX_CHARS
    lengths: tuple[int, ...] = ()
    items: int = MAX_ITEMS
    max: int = MAX_INT
    depth: int = MAX_DEPTH
    entries: int = MAX_ENTRIES
    nbytes: int = MAX_OBJECT_BYTES


DEFAULT_BOUND = Bound()


class Message:
    """Mixin for frozen dataclasses that travel on the wire."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
    HEX_FIELDS: ClassVar[frozenset[str]] = frozenset()
    """Fields (str or tuple of str) that must hold lower-case hex."""
    BOUNDS: ClassVar[Mapping[str, Bound]] = {}
    """Per-field bounds; a field not named here gets ``DEFAULT_BOUND``."""
    LATE_FIELDS: ClassVar[frozenset[str]] = frozenset()
    """Fields added after the message was first used: left out of ``to_dict`` while they hold their default, so
    messages written before them keep their bytes, ids and hashes."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists, nested messages become dicts)."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.name not in self.LATE_FIELDS or getattr(self, f.name) != f.default}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Decode ``d``; ``MalformedMessage`` for anything that is not a message of this class within its bounds."""
        try:
            message = cls._decode_fields(d)
            message.check_bounds()
        except MalformedMessage:
            raise
        except Exception as exc:  # bad input (a RecursionError, an OverflowError, ...) must never look retryable
            raise MalformedMessage(f"{cls.__name__}: cannot decode: {type(exc).__name__}: {exc}") from exc
        return message

    def check_bounds(self) -> None:
        """Bounds across fields (a total over nested lists); ``MalformedMessage`` when one is exceeded."""

    @classmethod
    def _decode_fields(cls, d: Mapping[str, Any]) -> Self:
        if not isinstance(d, Mapping):
            raise MalformedMessage(f"{cls.__name__}: expected an object, got {type(d).__name__}")
        hints = _type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name in d:
                where = f"{cls.__name__}.{f.name}"
                field = _Field(where, f.name in cls.HEX_FIELDS, cls.BOUNDS.get(f.name, DEFAULT_BOUND))
                kwargs[f.name] = _decode(field, hints[f.name], d[f.name])
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

    def authorize(self, allowed: Collection[str], unknown: Reason, what: str) -> None:
        """Refuse (``Unauthorized``) unless the signer is one of ``allowed`` (else ``unknown``) and the signature
        verifies (else ``bad_signature``); ``what`` names the message in the detail."""
        if self.signer not in allowed:
            raise Unauthorized(unknown, f"{what} is not signed by a party allowed to send it")
        if not self.signature_valid():
            raise Unauthorized(Reason.BAD_SIGNATURE, f"{what}: the signature does not verify")


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


@dataclasses.dataclass(frozen=True)
class _Field:
    where: str
    hex: bool
    bound: Bound


def _decode(field: _Field, tp: Any, value: object) -> Any:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return _decode_tuple(field, typing.get_args(tp)[0], value)
    if origin is dict:
        return _decode_object(field, value)
    if isinstance(tp, type) and issubclass(tp, Message):
        try:
            return tp.from_dict(typing.cast(Mapping[str, Any], value))
        except MalformedMessage as exc:
            raise MalformedMessage(f"{field.where}: {exc}") from exc
    if tp is str:
        return _decode_str(field, value)
    if tp is int:
        return _decode_int(field, value)
    if tp is bool:
        _require(field.where, value, bool)
        return value
    raise TypeError(f"{field.where}: no decoder for {tp!r}")


def _decode_tuple(field: _Field, item_type: Any, value: object) -> tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise MalformedMessage(f"{field.where}: expected a list, got {type(value).__name__}")
    if len(value) > field.bound.items:
        raise MalformedMessage(f"{field.where}: {len(value)} items, at most {field.bound.items}")
    items = (dataclasses.replace(field, where=f"{field.where}[{i}]") for i in range(len(value)))
    return tuple(_decode(item, item_type, v) for item, v in zip(items, value, strict=True))


def _decode_str(field: _Field, value: object) -> str:
    _require(field.where, value, str)
    text = typing.cast(str, value)
    bound = field.bound
    if bound.lengths and len(text) not in bound.lengths:
        raise MalformedMessage(f"{field.where}: {len(text)} characters, expected "
                               f"{' or '.join(str(n) for n in bound.lengths)}")
    if len(text) > bound.chars:
        raise MalformedMessage(f"{field.where}: {len(text)} characters, at most {bound.chars}")
    if field.hex:
        if not is_hex(text):
            raise MalformedMessage(f"{field.where}: expected lower-case hex")
    elif not _TOKEN.fullmatch(text):
        raise MalformedMessage(f"{field.where}: expected printable ASCII without quotes or backslashes")
    return text


def _decode_int(field: _Field, value: object) -> int:
    _require(field.where, value, int)
    number = typing.cast(int, value)
    if number < 0:
        raise MalformedMessage(f"{field.where}: must not be negative")
    if number > field.bound.max:
        raise MalformedMessage(f"{field.where}: {number} exceeds {field.bound.max}")
    return number


def _decode_object(field: _Field, value: object) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{field.where}: expected an object, got {type(value).__name__}")
    _check_shape(field, value)
    obj = dict(value)
    try:
        size = len(canonical(obj))
    except EncodingError as exc:
        raise MalformedMessage(f"{field.where}: {exc}") from exc
    if size > field.bound.nbytes:
        raise MalformedMessage(f"{field.where}: encodes in {size} bytes, at most {field.bound.nbytes}")
    return copy.deepcopy(obj)


def _check_shape(field: _Field, obj: Mapping[str, Any]) -> None:
    """Nesting depth and entry count of a JSON-like object, walked without recursion."""
    bound, entries = field.bound, 0
    stack: list[tuple[object, int]] = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        children = list(node.values()) if isinstance(node, Mapping) else node
        if not isinstance(children, (list, tuple)):
            continue
        if depth > bound.depth:
            raise MalformedMessage(f"{field.where}: nested deeper than {bound.depth}")
        entries += len(children)
        if entries > bound.entries:
            raise MalformedMessage(f"{field.where}: more than {bound.entries} keys and items")
        stack.extend((child, depth + 1) for child in children)


def _require(where: str, value: object, tp: type) -> None:
    if type(value) is not tp:
        raise MalformedMessage(f"{where}: expected {tp.__name__}, got {type(value).__name__}")
