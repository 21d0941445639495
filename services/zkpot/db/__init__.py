"""PostgreSQL persistence: engine and migrations, one repository per service (the embedded server for dev is
``zkpot.infra.postgres``).

Each service owns one schema (``tables.SCHEMA_OF_SERVICE``) and migrates it at start with ``migrate``.
Writes that accompany a message ack are idempotent inserts that report whether the row was new. The gateway's
index is ``zkpot.db.gateway.GatewayIndex`` (not re-exported: it depends on the gateway package).
"""

from zkpot.db.engine import create_engine, current_revision, downgrade, head_revision, migrate, ping
from zkpot.db.errors import DatabaseError, DatabaseUnavailable, DataRejected, UnknownStatus
from zkpot.db.producer import ProducerRepo
from zkpot.db.prover import ProverRepo
from zkpot.db.trainer import TrainedRound, TrainerRepo
from zkpot.db.validator import ValidatorRepo

__all__ = [
    "DataRejected",
    "DatabaseError",
    "DatabaseUnavailable",
    "ProducerRepo",
    "ProverRepo",
    "TrainedRound",
    "TrainerRepo",
    "UnknownStatus",
    "ValidatorRepo",
    "create_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "migrate",
    "ping",
]
