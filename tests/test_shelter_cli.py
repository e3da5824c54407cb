"""The shelter and follow-up commands: what they print, and that they print no names."""

from __future__ import annotations

import datetime as dt

from tests.conftest import ADMIN_PASSWORD
from tests.shelter_helpers import D, make_case
from tipdesk import cli
from tipdesk.services import cases
from tipdesk.services import facilities as fac
from tipdesk.services import followup as fu
from tipdesk.services import placements as pl

TODAY = dt.date.today()


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_occupancy_figures_and_queues_from_the_command_line(reg, register_path, capsys, monkeypatch):
    monkeypatch.setenv("TIPDESK_PASSWORD", ADMIN_PASSWORD)
    house = fac.create_facility(reg, fac.FacilityFields(code="SH", name="Safe House", bed_labels=("Blue", "Red")))
    case = make_case(reg, given="Maria", family="Lopez", registered=D(2024, 1, 5))
    pl.admit(reg, case, house.id, D(2024, 1, 5), bed_id=house.beds[0].id)
    fu.start_plan(reg, case, D(2024, 2, 1))

    code, out = run(capsys, "shelter", "occupancy", str(register_path))
    assert code == 0 and "SH" in out and "Red" in out and "Blue" not in out

    code, out = run(capsys, "shelter", "figures", str(register_path), "--period", "2024-Q1")
    assert code == 0
    total = next(line for line in out.splitlines() if line.startswith("Total"))
    # admitted 5 Jan 2024, still placed: 87 nights in Q1 2024 (5 Jan … 31 Mar)
    assert total.split()[1:6] == ["2", "1", "0", "87", "1"]

    code, out = run(capsys, "followup", "queue", str(register_path), "overdue", "--date", "2024-06-01")
    number = cases.get_case(reg, case).case_number
    assert code == 0 and "3 follow-up(s) overdue" in out  # due 1 March, 1 April, 1 May
    first = out.splitlines()[1].split()
    assert first[:5] == [number, "due", "2024-03-01", "92", "day(s)"]
    assert "Maria" not in out and "Lopez" not in out

    code, out = run(capsys, "shelter", "figures", str(register_path), "--period", "2024-Q5")
    assert code == 2 and "not a period" in out
    code, out = run(capsys, "followup", "queue", str(register_path), "overdue", "--date", "1 June")
    assert code == 2 and "YYYY-MM-DD" in out
