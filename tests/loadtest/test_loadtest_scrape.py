"""The report's metrics are scraped once the services have counted the final blocks the run saw."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loadtest.collect import scrape_settled


@pytest.fixture
async def producer() -> AsyncIterator[tuple[str, list[int]]]:
    """A /metrics page whose final-block counter goes up by one on each scrape after the first."""
    count = [0]

    async def page(_: web.Request) -> web.Response:
        text = f"zkpot_blocks_finalized_total {count[0]}\n"
        count[0] += 1
        return web.Response(text=text)

    app = web.Application()
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/metrics", count
    await runner.cleanup()


async def test_a_service_one_block_short_is_scraped_again(producer: tuple[str, list[int]]) -> None:
    url, _ = producer
    metrics = await scrape_settled({"block-producer": url}, 2, every_s=0.01)
    assert metrics["block-producer"] == {"zkpot_blocks_finalized_total": 2.0}


async def test_a_service_that_never_catches_up_is_reported_as_it_is(producer: tuple[str, list[int]]) -> None:
    url, count = producer
    metrics = await asyncio.wait_for(scrape_settled({"block-producer": url}, 10**6, wait_s=0.3, every_s=0.05), 5)
    page = metrics["block-producer"]
    assert isinstance(page, dict) and 0 < page["zkpot_blocks_finalized_total"] < 10**6
