"""The collector pause around returns ends with the collector as it was."""

from __future__ import annotations

import gc
from pathlib import Path

from exports.returns.gc_pause import paused_gc
from exports.returns.reader import check_file


def test_nested_pauses_resume_the_collector_only_at_the_end(tmp_path: Path) -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    (tmp_path / "x.xlsx").write_text("not a workbook")
    assert not check_file(tmp_path / "x.xlsx").ok
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
