"""How a nats-py JetStream message is seen as a ``RawMessage``: its metadata, read from the ack subject."""

from __future__ import annotations

import datetime

import pytest
from nats.aio.msg import Msg
from zkpot.bus.jetstream import _JsMessage, unix_ms

STORED_NS = 1_700_000_000_123_456_789


@pytest.mark.parametrize("reply", [
    f"$JS.ACK.EVENTS.v1.2.7.3.{STORED_NS}.0",  # v1 ack subject
    f"$JS.ACK._.a1b2.EVENTS.v1.2.7.3.{STORED_NS}.0.r4nd",  # v2: domain and account hash
])
def test_a_delivery_carries_the_store_time_in_unix_ms(reply: str) -> None:
    raw = _JsMessage(None, Msg(None, subject="zkpot.tx.submitted", reply=reply, data=b"{}"), 5.0)  # type: ignore[arg-type]
    assert (raw.num_delivered, raw.stored_ms) == (2, STORED_NS // 1_000_000)


def test_unix_ms_is_exact_and_floors() -> None:
    utc = datetime.UTC
    assert unix_ms(datetime.datetime(1970, 1, 1, tzinfo=utc)) == 0
    assert unix_ms(datetime.datetime(2023, 11, 14, 22, 13, 20, 999_999, tzinfo=utc)) == 1_700_000_000_999
    assert unix_ms(datetime.datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=utc)) == -1
    assert unix_ms(datetime.datetime(2023, 11, 15, 0, 13, 20, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))) \
        == 1_700_000_000_000
