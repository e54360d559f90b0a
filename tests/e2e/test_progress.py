"""The progress a sync reports: the posting phase gets its total once the feed is complete."""

from __future__ import annotations

import io

from e2e_world import World
from rich.console import Console
from rich.progress import Progress

from ml_connector.cli.console import EtaColumn
from ml_connector.usecases.passes import sync_connection


async def test_posting_progress_ends_with_its_total(world: World) -> None:
    seen: list[tuple[str, int, int | None]] = []
    result = await sync_connection(
        world.store,
        world.config.name,
        actor="sync",
        remotes=world.remotes,
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    posting = [(done, total) for phase, done, total in seen if phase == "posting"]
    assert posting, seen
    done, total = posting[-1]
    assert total is not None
    assert done == total == result.report.counters.purchases_fetched
    # until the feed is complete the total is unknown: no ETA is guessed from a growing count
    assert posting[0][1] is None or posting[0][1] == total
    assert [d for d, _ in posting] == sorted(d for d, _ in posting)


def test_eta_shows_only_when_the_total_is_known() -> None:
    progress = Progress(EtaColumn(), console=Console(file=io.StringIO()))
    task = progress.add_task("posting", total=None)
    column = EtaColumn()
    assert column.render(progress.tasks[0]).plain == ""
    progress.update(task, total=10, completed=4)
    assert column.render(progress.tasks[0]).plain.startswith("ETA ")
