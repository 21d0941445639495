"""The service stores' backends: each contract test runs on the in-memory twin and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.db import ProducerRepo, ProverRepo, TrainerRepo, ValidatorRepo, create_engine
from zkpot.db.memory import MemoryProducerRepo, MemoryProverRepo, MemoryTrainerRepo, MemoryValidatorRepo


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration)])
def store_database(request: pytest.FixtureRequest) -> str | None:
    """A migrated database's URL for the SQL repositories, None for the in-memory twins."""
    return None if request.param == "memory" else str(request.getfixturevalue("migrated_database_url"))


@pytest.fixture
async def store_engine(store_database: str | None) -> AsyncIterator[AsyncEngine | None]:
    if store_database is None:
        yield None
        return
    engine = create_engine(store_database)
    yield engine
    await engine.dispose()


@pytest.fixture
def producer_store(store_engine: AsyncEngine | None) -> MemoryProducerRepo | ProducerRepo:
    return MemoryProducerRepo() if store_engine is None else ProducerRepo(store_engine)


@pytest.fixture
def validator_store(store_engine: AsyncEngine | None) -> MemoryValidatorRepo | ValidatorRepo:
    return MemoryValidatorRepo() if store_engine is None else ValidatorRepo(store_engine)


@pytest.fixture
def trainer_store(store_engine: AsyncEngine | None) -> MemoryTrainerRepo | TrainerRepo:
    return MemoryTrainerRepo() if store_engine is None else TrainerRepo(store_engine)


@pytest.fixture
def prover_store(store_engine: AsyncEngine | None) -> MemoryProverRepo | ProverRepo:
    return MemoryProverRepo() if store_engine is None else ProverRepo(store_engine)
