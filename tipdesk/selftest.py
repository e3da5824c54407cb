"""``tipdesk --self-test``: prove that this installation works, end to end, in a few seconds.

Run on an office PC after installing, and by CI on the frozen bundle. It exercises what a
broken bundle would break first: the bundled SQLCipher and Argon2, the Alembic migrations
shipped as data files, the ORM, the full-text index, the spreadsheet libraries, the Qt platform
plugin and the fonts (and, from ``tipdesk.cli``, a return and the window). Nothing touches the user's own registers or settings: everything happens
in a temporary folder that is removed afterwards, with synthetic data only.

The test is a list of named ``Step``s. This module holds the steps of the core (no Qt widgets:
the font check paints with QtGui only); ``tipdesk.cli``, the composition root, appends the steps
that need ``exports`` or ``ui`` (a return, the main window). A step that fails is printed with
its reason; steps that need it are skipped; the exit code is non-zero.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tipdesk import __version__

#: The synthetic administrator of the throw-away register (never a real password).
SELFTEST_PASSWORD = "self-test-password-0"
SELFTEST_USER = "selftest"
#: A word that must never appear in plain text in the encrypted file.
PLAINTEXT_PROBE = "Zyxwvutsrq"


class StepFailed(Exception):
    """A self-test step found something wrong; the message says what, in a sentence."""


@dataclass
class SelfTestContext:
    """What steps share: a scratch folder, the open register, the Qt application."""

    workdir: Path
    screenshot_dir: Path | None = None
    #: Creates the Qt application object (the CLI passes one that makes a widgets application).
    make_app: Callable[[], Any] | None = None
    register: Any = None  # tipdesk.vault.register.Register once created
    register_path: Path | None = None
    app: Any = None
    facts: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        if self.register is not None:
            self.register.close()
            self.register = None


@dataclass(frozen=True)
class Step:
    """One named check. ``run`` returns a short detail line or raises ``StepFailed``."""

    name: str
    run: Callable[[SelfTestContext], str]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # "ok", "FAILED" or "skipped"
    detail: str
    seconds: float


# --- display -------------------------------------------------------------------------------------

def has_display() -> bool:
    """True where Qt's native platform plugin can open windows."""
    if os.name == "nt" or sys.platform == "darwin":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def choose_qt_platform() -> str:
    """Use the offscreen platform when there is no display (and nobody chose one); say which."""
    chosen = os.environ.get("QT_QPA_PLATFORM")
    if chosen:
        return chosen
    if not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return "offscreen"
    return "native"


# --- core steps ----------------------------------------------------------------------------------

def step_installation(ctx: SelfTestContext) -> str:
    """The version is known and the data files the program loads at run time are present."""
    from tipdesk.vault import migrate

    if __version__.startswith("0+unknown"):
        raise StepFailed("the version is unknown: the package metadata is missing from this build")
    revisions = migrate.alembic_revisions()
    if revisions != migrate.REVISIONS:
        raise StepFailed(
            f"the schema migrations found on disk ({', '.join(revisions) or 'none'}) are not the "
            f"ones this version expects ({', '.join(migrate.REVISIONS)})"
        )
    frozen = "frozen bundle" if getattr(sys, "frozen", False) else "from source"
    return f"tipdesk {__version__}, {frozen}, schema {revisions[-1]}"


def step_create_register(ctx: SelfTestContext) -> str:
    """Create an encrypted register (SQLCipher, Argon2id key slot, Alembic migrations)."""
    from tipdesk.vault.register import OfficeDetails, create_register

    ctx.register_path = ctx.workdir / "selftest.tipdb"
    created = create_register(ctx.register_path, OfficeDetails("SELFTEST", "Self-test office", "NGO", "JAM"),
                              SELFTEST_USER, SELFTEST_PASSWORD, "Self-test administrator")
    created.register.close()
    size = ctx.register_path.stat().st_size
    return f"{size // 1024} KiB, key file beside it"


def step_unlock(ctx: SelfTestContext) -> str:
    """Unlock it with the password; a wrong password must be refused."""
    from tipdesk.errors import WrongCredentials
    from tipdesk.vault.register import open_register

    assert ctx.register_path is not None
    try:
        wrong = open_register(ctx.register_path, SELFTEST_USER, SELFTEST_PASSWORD + "x")
    except WrongCredentials:
        pass
    else:
        wrong.close()
        raise StepFailed("a wrong password opened the register")
    start = time.perf_counter()
    ctx.register = open_register(ctx.register_path, SELFTEST_USER, SELFTEST_PASSWORD)
    return f"unlocked in {time.perf_counter() - start:.2f} s; a wrong password was refused"


def step_case_round_trip(ctx: SelfTestContext) -> str:
    """Register a case through the case services, open it again, find it by name search."""
    import datetime as dt

    from tipdesk.services.cases import CaseInput, get_case, register_case
    from tipdesk.services.persons import PersonInput
    from tipdesk.services.search import CaseFilter, list_cases

    reg = ctx.register
    # Registered last year, so that last year's return (a complete period) counts it.
    registered = dt.date(dt.date.today().year - 1, 6, 1)
    person = PersonInput(given_names=PLAINTEXT_PROBE, family_names="Selftest", gender="Feminine",
                         estimated_age=30, citizenships=("JAM",))
    written = register_case(reg, CaseInput(registration_date=registered, exploitation=("ForcedLabour",),
                                           labour_industry="A_AgricultureForestryAndFishing", notes="written by the self-test"),
                            person)
    back = get_case(reg, written.id)
    if back.case_number != written.case_number or back.registration_date != registered \
            or back.person.given_names != PLAINTEXT_PROBE:
        raise StepFailed("the case registered a moment ago read back differently")
    page = list_cases(reg, CaseFilter(text=PLAINTEXT_PROBE))
    if [row.id for row in page.rows] != [written.id]:
        raise StepFailed("the name search did not find the case just registered")
    ctx.facts["case_year"] = registered.year
    return f"case {written.case_number} registered, opened and found by name"


def step_encrypted_at_rest(ctx: SelfTestContext) -> str:
    """The file on disk holds no plain text: not the SQLite header, not the name just written."""
    from tipdesk.vault import files

    assert ctx.register_path is not None
    with ctx.register.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    for path in [ctx.register_path, *files.sidecar_paths(ctx.register_path)]:
        if not path.exists():
            continue
        data = path.read_bytes()
        if data.startswith(b"SQLite format 3\x00") or PLAINTEXT_PROBE.encode() in data:
            raise StepFailed(f"{path.name} contains plain text: the database is not encrypted")
    return "no plain text in the register file"


def step_check_register(ctx: SelfTestContext) -> str:
    """``tipdesk check``: integrity, page authentication, key file, audit chain."""
    from tipdesk.vault.check import check_register

    report = check_register(ctx.register)
    if not report.ok:
        raise StepFailed("; ".join(line for line in report.lines if line.startswith("FAILED")))
    return f"{len(report.lines)} checks passed"


def step_spreadsheets(ctx: SelfTestContext) -> str:
    """The libraries returns are made of: openpyxl writes a workbook, calamine reads it back."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    path = ctx.workdir / "selftest.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Check")
    ws.append(["indicator", "value"])
    ws.append(["victims", 3])
    wb.save(path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Check").to_python()
    if [list(r) for r in rows] != [["indicator", "value"], ["victims", 3]]:
        raise StepFailed(f"a workbook read back differently from what was written: {rows!r}")
    import defusedxml.ElementTree as safe_et

    try:
        safe_et.fromstring('<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
    except safe_et.EntitiesForbidden:
        pass
    else:
        raise StepFailed("defusedxml accepted an XML entity")
    return "xlsx written (openpyxl) and read back (calamine); XML entities refused"


# --- GUI steps (QtGui only: no widgets in the core) ---------------------------------------------

def _application(ctx: SelfTestContext) -> Any:
    if ctx.app is None:
        from PySide6.QtGui import QGuiApplication

        existing = QGuiApplication.instance()
        if existing is not None:
            ctx.app = existing
        elif ctx.make_app is not None:
            ctx.app = ctx.make_app()
        else:
            ctx.app = QGuiApplication([sys.argv[0] if sys.argv else "tipdesk", "-platform",
                                       os.environ.get("QT_QPA_PLATFORM", "offscreen")])
    return ctx.app


def step_qt_platform(ctx: SelfTestContext) -> str:
    """Qt starts on this machine's display, or offscreen where there is none."""
    choose_qt_platform()
    app = _application(ctx)
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    return f"Qt {qVersion()} (PySide6 {pyside_version}), platform '{app.platformName()}'"


def ink(image: Any, background: int = 0xFFFFFFFF) -> int:
    """How many pixels of ``image`` differ from its background colour."""
    from PySide6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_ARGB32)
    width, height = img.width(), img.height()
    data = bytes(img.constBits())[: img.bytesPerLine() * height]
    line = img.bytesPerLine()
    bg = background.to_bytes(4, sys.byteorder)
    count = 0
    for y in range(height):
        row = data[y * line: y * line + width * 4]
        count += sum(1 for x in range(0, width * 4, 4) if row[x:x + 4] != bg)
    return count


def render_text(text: str, point_size: int = 28, width: int = 0) -> Any:
    """``text`` painted black on white with the application's default font."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QImage, QPainter

    font = QFont(QGuiApplication.font())
    font.setPointSize(point_size)
    metrics = QFontMetrics(font)
    w = width or metrics.horizontalAdvance(text) + 20
    image = QImage(w, metrics.height() + 20, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(Qt.GlobalColor.black)
    painter.drawText(10, 10 + metrics.ascent(), text)
    painter.end()
    return image


def step_fonts(ctx: SelfTestContext) -> str:
    """Fonts are found and render real glyphs (not nothing, not the same box for every letter)."""
    from PySide6.QtGui import QFontDatabase, QFontInfo, QGuiApplication

    _application(ctx)
    families = QFontDatabase.families()
    if not families:
        raise StepFailed("Qt found no fonts at all: text would be invisible (fontconfig has no fonts)")
    sample = render_text("tipdesk – Zoë, Ñandú, Ådne, 2026")
    if ink(sample) < 300:
        raise StepFailed("text renders without ink: the fonts cannot be drawn")
    # Missing glyphs are drawn as the same empty box for every character; real glyphs differ.
    narrow, wide = ink(render_text("l", 40, 80)), ink(render_text("W", 40, 80))
    if wide < narrow * 2:
        raise StepFailed(f"'l' and 'W' look alike ({narrow} vs {wide} pixels): glyphs are missing boxes")
    if ctx.screenshot_dir is not None:
        ctx.screenshot_dir.mkdir(parents=True, exist_ok=True)
        poster = render_text(f"tipdesk {__version__} — Ñandú Zoë Ådne 0123456789", 20)
        if not poster.save(str(ctx.screenshot_dir / "selftest-fonts.png")):
            raise StepFailed("could not save a PNG: the image format plugin is missing")
    family = QFontInfo(QGuiApplication.font()).family()
    return f"{len(families)} font families; default '{family}' draws real glyphs"


# --- running -------------------------------------------------------------------------------------

def core_steps() -> list[Step]:
    """The steps that need only the core (and QtGui for the font check)."""
    return [
        Step("installation", step_installation),
        Step("create a register", step_create_register, needs=("installation",)),
        Step("unlock it", step_unlock, needs=("create a register",)),
        Step("write and read a case", step_case_round_trip, needs=("unlock it",)),
        Step("encrypted at rest", step_encrypted_at_rest, needs=("write and read a case",)),
        Step("register check", step_check_register, needs=("unlock it",)),
        Step("spreadsheet libraries", step_spreadsheets),
        Step("Qt platform", step_qt_platform),
        Step("fonts", step_fonts, needs=("Qt platform",)),
    ]


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="tipdesk-selftest-") as tmp:
        yield Path(tmp)


def run_steps(steps: Sequence[Step], ctx: SelfTestContext, out: TextIO) -> list[StepResult]:
    """Run ``steps`` in order, printing one line each; never stops at the first failure."""
    results: list[StepResult] = []
    status: dict[str, str] = {}
    for step in steps:
        missing = [n for n in step.needs if status.get(n) != "ok"]
        # The name goes out first: if the step kills the process (Qt aborts when no platform
        # plugin loads), the last line still says which step it was.
        print(f"  {step.name:<24} ", end="", file=out, flush=True)
        if missing:
            result = StepResult(step.name, "skipped", f"needs: {', '.join(missing)}", 0.0)
        else:
            start = time.perf_counter()
            try:
                detail = step.run(ctx)
                result = StepResult(step.name, "ok", detail, time.perf_counter() - start)
            except StepFailed as exc:
                result = StepResult(step.name, "FAILED", str(exc), time.perf_counter() - start)
            except Exception as exc:  # a broken bundle fails in any way: report it, go on
                where = traceback.extract_tb(exc.__traceback__)[-1]
                detail = f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"
                result = StepResult(step.name, "FAILED", detail, time.perf_counter() - start)
                traceback.print_exc(file=sys.stderr)
        status[step.name] = result.status
        results.append(result)
        took = f"  ({result.seconds:.2f} s)" if result.status != "skipped" else ""
        print(f"{result.status:<7} {result.detail}{took}", file=out, flush=True)
    return results


def run(
    extra_steps: Sequence[Step] = (),
    *,
    make_app: Callable[[], Any] | None = None,
    screenshot_dir: Path | None = None,
    out: TextIO | None = None,
) -> bool:
    """Run the core steps and ``extra_steps`` in a temporary folder; True when all passed."""
    out = out or sys.stdout
    platform = choose_qt_platform()
    print(f"tipdesk {__version__} self-test (Qt platform: {platform})", file=out, flush=True)
    start = time.perf_counter()
    with _scratch() as workdir:
        ctx = SelfTestContext(workdir=workdir, screenshot_dir=screenshot_dir, make_app=make_app)
        try:
            results = run_steps([*core_steps(), *extra_steps], ctx, out)
        finally:
            ctx.close()
    failed = [r for r in results if r.status != "ok"]
    took = time.perf_counter() - start
    if failed:
        print(f"Self-test FAILED: {len(failed)} of {len(results)} steps did not pass "
              f"({', '.join(r.name for r in failed)}).", file=out, flush=True)
        return False
    print(f"Self-test passed: {len(results)} steps in {took:.1f} s.", file=out, flush=True)
    return True
