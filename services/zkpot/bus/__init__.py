"""The NATS JetStream transport: every event and job of the network travels through a ``Bus``.

``JetStreamBus`` talks to a real nats-server, ``MemoryBus`` is the in-process fake for unit tests; the stream and
subject layout is data in ``subjects``; ``dispatch`` turns an error's Disposition into an acknowledgement;
``zkpot.infra.nats.NatsServer`` runs a local nats-server (devnet, tests). See docs/messaging.md.
"""

from zkpot.bus.api import Bus, ConsumerOptions, Delivery, Handler, Subscription
from zkpot.bus.depth import track_queue_depth, update_queue_depth
from zkpot.bus.errors import BusError, BusUnavailable, RetryLater, SubscriptionFailed
from zkpot.bus.jetstream import JetStreamBus
from zkpot.bus.memory import MemoryBus, Published
from zkpot.bus.subjects import LAYOUT, Layout, Retention, StreamSpec, SubjectSpec

__all__ = [
    "LAYOUT",
    "Bus",
    "BusError",
    "BusUnavailable",
    "ConsumerOptions",
    "Delivery",
    "Handler",
    "JetStreamBus",
    "Layout",
    "MemoryBus",
    "Published",
    "Retention",
    "RetryLater",
    "StreamSpec",
    "SubjectSpec",
    "Subscription",
    "SubscriptionFailed",
    "track_queue_depth",
    "update_queue_depth",
]
