"""The service stores' backends: each contract test runs on the in-memory twin and on a real PostgreSQL, there
twice: connected as the superuser, and as production connects, each repository as its own service's role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.db import ProducerRepo, ProverRepo, TrainerRepo, ValidatorRepo, create_engine
from zkpot.db.memory import MemoryProducerRepo, MemoryProverRepo, MemoryTrainerRepo, MemoryValidatorRepo

EngineFor = Callable[[str], AsyncEngine]


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.integration),
                        pytest.param("postgres-role", marks=pytest.mark.integration)])
def store_urls(request: pytest.FixtureRequest) -> Callable[[str], str] | None:
    """Each service's database URL for the SQL repositories (one superuser URL, or its own role's), None for
    the in-memory twins."""
    if request.param == "memory":
        return None
    if request.param == "postgres":
        url = str(request.getfixturevalue("migrated_database_url"))
        return lambda service: url
    return dict(request.getfixturevalue("role_urls")).__getitem__


@pytest.fixture
async def store_engine(store_urls: Callable[[str], str] | None) -> AsyncIterator[EngineFor | None]:
    """An engine per service, made on first use and disposed afterwards."""
    if store_urls is None:
        yield None
        return
    engines: dict[str, AsyncEngine] = {}

    def engine_for(service: str) -> AsyncEngine:
        if service not in engines:
            engines[service] = create_engine(store_urls(service))
        return engines[service]

    yield engine_for
    for engine in engines.values():
        await engine.dispose()


@pytest.fixture
def producer_store(store_engine: EngineFor | None) -> MemoryProducerRepo | ProducerRepo:
    return MemoryProducerRepo() if store_engine is None else ProducerRepo(store_engine("block-producer"))


@pytest.fixture
def validator_store(store_engine: EngineFor | None) -> MemoryValidatorRepo | ValidatorRepo:
    return MemoryValidatorRepo() if store_engine is None else ValidatorRepo(store_engine("validator"))


@pytest.fixture
def trainer_store(store_engine: EngineFor | None) -> MemoryTrainerRepo | TrainerRepo:
    return MemoryTrainerRepo() if store_engine is None else TrainerRepo(store_engine("trainer"))


@pytest.fixture
def prover_store(store_engine: EngineFor | None) -> MemoryProverRepo | ProverRepo:
    return MemoryProverRepo() if store_engine is None else ProverRepo(store_engine("prover"))
