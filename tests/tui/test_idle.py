"""An idle board asks the file only `PRAGMA data_version`: no reads while nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from relman_tui.service import Service
from relman_tui.store import Store

from .conftest import loaded, make_app, other, until


async def test_an_idle_board_reads_nothing_but_data_version(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    looks: list[int] = []
    reads: list[int] = []
    data_version, snapshot = Store.data_version, Service.snapshot

    def counted_version(self: Store) -> int:
        looks.append(1)
        return data_version(self)

    def counted_snapshot(self: Service, **kwargs: bool) -> object:
        reads.append(1)
        return snapshot(self, **kwargs)

    monkeypatch.setattr(Store, "data_version", counted_version)
    monkeypatch.setattr(Service, "snapshot", counted_snapshot)
    app = make_app(demo_db)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await until(pilot, lambda: len(looks) >= 3)
        before_reads, before_looks = len(reads), len(looks)
        await until(pilot, lambda: len(looks) >= before_looks + 20)  # twenty looks at the file later ...
        assert len(reads) == before_reads  # ... not one read of the board
        other(demo_db, "bob").add_release("new-one", "1.0")  # and a change is read once it lands
        await until(pilot, lambda: len(reads) > before_reads)
