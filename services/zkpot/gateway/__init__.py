"""The ipfs-gateway: an HTTP front to a blob store (signed uploads, caps, quotas, retention of old rounds; open
reads) and its client."""

from zkpot.gateway.access import Limits, Uploader, uploaders_from_genesis
from zkpot.gateway.app import create_app
from zkpot.gateway.client import GatewayClient, QuotaExceeded, UploadRefused
from zkpot.gateway.index import BlobIndex, BlobRecord, KindStats, MemoryIndex
from zkpot.gateway.wire import BlobKind

__all__ = ["BlobIndex", "BlobKind", "BlobRecord", "GatewayClient", "KindStats", "Limits", "MemoryIndex",
           "QuotaExceeded", "UploadRefused", "Uploader", "create_app", "uploaders_from_genesis"]
