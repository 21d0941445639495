"""The ipfs-gateway: an HTTP front to a blob store (add, cat, pin, per-kind accounting) and its client."""

from zkpot.gateway.app import create_app
from zkpot.gateway.client import GatewayClient
from zkpot.gateway.index import BlobIndex, BlobRecord, KindStats, MemoryIndex
from zkpot.gateway.wire import BlobKind

__all__ = ["BlobIndex", "BlobKind", "BlobRecord", "GatewayClient", "KindStats", "MemoryIndex", "create_app"]
