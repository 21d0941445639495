"""The trainer's record of the rounds it took part in (``trainer.rounds``), one row per (client, round)."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select, update

from zkpot.db.observed import ObservedMixin
from zkpot.db.rows import TrainerRoundRow
from zkpot.db.tables import trainer_observed, trainer_rounds


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainedRound:
    """What a trainer records once it has trained for a round; the database adds ``created_at``."""

    client: str
    round: int
    parent: str
    global_model_cid: str
    status: str
    model_cid: str | None = None
    model_sha256: str | None = None
    n_train: int | None = None
    float_correct: int | None = None
    train_s: float | None = None
    job_id: str | None = None
    job: dict[str, Any] | None = None  # the proof job message, re-sent as is after a crash


class TrainerRepo(ObservedMixin):
    observed_table = trainer_observed

    async def record_round(self, record: TrainedRound) -> bool:
        """Store the round; False when this client already recorded it (the first record is kept)."""
        return await self._insert_new(trainer_rounds, dataclasses.asdict(record))

    async def set_status(self, client: str, round: int, status: str, *, job_id: str | None = None) -> bool:
        """Move the round to ``status`` (and name its proof job, when given); False when not recorded."""
        values: dict[str, str] = {"status": status} if job_id is None else {"status": status, "job_id": job_id}
        key = (trainer_rounds.c.client == client, trainer_rounds.c.round == round)
        return await self._changed(update(trainer_rounds).where(*key).values(**values))

    async def get_round(self, client: str, round: int) -> TrainerRoundRow | None:
        key = (trainer_rounds.c.client == client, trainer_rounds.c.round == round)
        return await self._first(select(trainer_rounds).where(*key), TrainerRoundRow)

    async def latest_round(self, client: str) -> TrainerRoundRow | None:
        """The highest round this client recorded (where a restarted trainer resumes)."""
        query = (select(trainer_rounds).where(trainer_rounds.c.client == client)
                 .order_by(trainer_rounds.c.round.desc()).limit(1))
        return await self._first(query, TrainerRoundRow)
