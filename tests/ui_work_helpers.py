"""Helpers for the window tests of shelter, follow-up, dashboard and settings: a register with
facilities, cases, stays and follow-up plans made through the services, and a signed-in window."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ADMIN_PASSWORD, FAST_KDF
from tests.factories import add_case
from tipdesk.security import accounts
from tipdesk.services import facilities, placements
from tipdesk.services.facilities import FacilityFields
from tipdesk.vault.register import open_register

TODAY = dt.date.today()
ANALYST = ("ana", "analyst-pw-123")
CASEWORKER = ("carla", "caseworker-pw-1")
#: Names that must never reach an analyst's screen.
NAMES = ("Annabel", "Zephyrine", "Beatrix", "Quillfeather", "Marcus", "Oakenshield", "Dorothea", "Wintergreen")


@dataclass(frozen=True)
class Setup:
    path: Path
    hope: int  # facility ids
    blue: int
    rooms: dict[str, int]  # bed label → id (Hope's and Blue Mountain's)
    annabel: int  # case ids
    beatrix: int
    marcus: int
    dorothea: int
    beatrix_stay: int
    numbers: dict[int, str]  # case id → case number

    def number(self, case_id: int) -> str:
        return self.numbers[case_id]


def build_register(reg) -> Setup:  # noqa: ANN001
    """Hope Women's Shelter (women 18+, three rooms), Blue Mountain (anyone, two beds), four
    cases; Beatrix placed in Room 1 for ten nights; Dorothea in follow-up with an overdue visit."""
    hope = facilities.create_facility(reg, FacilityFields(
        code="HWS", name="Hope Women's Shelter", sexes=("Female",), min_age=18,
        bed_labels=("Room 1", "Room 2", "Room 3")))
    blue = facilities.create_facility(reg, FacilityFields(code="BMS", name="Blue Mountain Safe House",
                                                          kind="SafeHouse", bed_labels=("Bed A", "Bed B")))
    rooms = {b.label: b.id for b in hope.beds + blue.beds}
    registered = TODAY - dt.timedelta(days=400)
    made = [add_case(reg, given_names="Annabel", family_names="Zephyrine", registered=registered),
            add_case(reg, given_names="Beatrix", family_names="Quillfeather", registered=registered),
            add_case(reg, given_names="Marcus", family_names="Oakenshield", gender="Masculine", registered=registered),
            add_case(reg, given_names="Dorothea", family_names="Wintergreen", registered=registered)]
    annabel, beatrix, marcus, dorothea = (c.id for c in made)
    stay = placements.admit(reg, beatrix, hope.id, TODAY - dt.timedelta(days=10), bed_id=rooms["Room 1"])
    # Dorothea stayed, left into reintegration 70 days ago: her plan's first follow-ups are due.
    old = placements.admit(reg, dorothea, blue.id, TODAY - dt.timedelta(days=120), bed_id=rooms["Bed B"])
    placements.discharge(reg, old.id, TODAY - dt.timedelta(days=70), "ReintegratedWithFamily")
    accounts.add_user(reg, ANALYST[0], "analyst", ANALYST[1], "", kdf=FAST_KDF)
    accounts.add_user(reg, CASEWORKER[0], "caseworker", CASEWORKER[1], "Carla Worker", kdf=FAST_KDF)
    return Setup(reg.path, hope.id, blue.id, rooms, annabel, beatrix, marcus, dorothea, stay.id,
                 {c.id: c.case_number for c in made})


def open_window(qtbot, path: Path, user: str = "admin", password: str = ADMIN_PASSWORD):  # noqa: ANN001, ANN201
    """A main window signed in as ``user`` (the login dialog itself is tested elsewhere)."""
    from ui.main_window import MainWindow
    from ui.operations import OperationRunner

    win = MainWindow(path, OperationRunner())
    qtbot.addWidget(win)
    win.resize(1180, 760)
    win.show()
    win.attach(open_register(path, user, password))
    return win


def close_window(win) -> None:  # noqa: ANN001
    win.runner.invalidate()
    if win.reg is not None:
        reg, win.reg = win.reg, None
        win._drop_pages()
        reg.close()


def visible_dialog(parent, kind):  # noqa: ANN001, ANN201
    return next((d for d in parent.window().findChildren(kind) if d.isVisible()), None)
