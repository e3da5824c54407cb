"""The ``tipdesk`` command: no arguments opens the window; subcommands are its scriptable twin.

This module and ``__main__`` are the composition root: the only modules of ``tipdesk`` that
import ``exports`` or ``ui`` (the GUI lazily, so the CLI starts fast and needs no display).

Passwords come from a prompt, from ``--password-file``, or from ``TIPDESK_PASSWORD`` — never
from a plain argument. New passwords likewise from a prompt (asked twice),
``--new-password-file`` or ``TIPDESK_NEW_PASSWORD``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tipdesk import __version__
from tipdesk.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    TipdeskError,
    UsageError,
)
from tipdesk.vault import files

Handler = Callable[[argparse.Namespace], int]


# --- passwords --------------------------------------------------------------------------------

def _read_secret_file(path: str) -> str:
    try:
        data = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"Cannot read the password file {path}: {exc.strerror}.") from exc
    line = data.splitlines()[0] if data else ""
    if not line:
        raise UsageError(f"The password file {path} is empty.")
    return line


def password_from(args: argparse.Namespace, prompt: str = "Password: ") -> str:
    """The acting user's password: --password-file, then TIPDESK_PASSWORD, then a prompt."""
    if getattr(args, "password_file", None):
        return _read_secret_file(args.password_file)
    env = os.environ.get("TIPDESK_PASSWORD")
    if env:
        return env
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    raise UsageError("No password given: use --password-file FILE, TIPDESK_PASSWORD, or run in a terminal.")


def new_password_from(args: argparse.Namespace, who: str) -> str:
    """A new password: --new-password-file, then TIPDESK_NEW_PASSWORD, then a prompt (twice)."""
    if getattr(args, "new_password_file", None):
        return _read_secret_file(args.new_password_file)
    env = os.environ.get("TIPDESK_NEW_PASSWORD")
    if env:
        return env
    if sys.stdin.isatty():
        first = getpass.getpass(f"New password for {who}: ")
        second = getpass.getpass("Type it again: ")
        if first != second:
            raise UsageError("The two passwords are not the same; nothing was changed.")
        return first
    raise UsageError(
        "No new password given: use --new-password-file FILE, TIPDESK_NEW_PASSWORD, or run in a terminal."
    )


def register_path(text: str) -> Path:
    return files.normalise_register_path(text)


def open_as_user(args: argparse.Namespace, via: str = "login"):  # -> Register
    """Open the register named by ``args.path`` as ``--user`` (default: the only admin)."""
    from tipdesk.vault.register import check_register_file, open_register

    path = register_path(args.path)
    check_register_file(path)  # before asking for a password
    return open_register(path, getattr(args, "user", None), password_from(args), via=via)


# --- commands: registers and accounts ------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from tipdesk.vault.register import OfficeDetails, create_register

    path = register_path(args.path)
    office = OfficeDetails(args.org_code.strip().upper(), args.org_name, args.org_type, args.country.strip().upper())
    office.validate()
    if path.exists():
        from tipdesk.errors import LocationError

        raise LocationError(f"{path} already exists. tipdesk never overwrites a register; choose another name.")
    password = password_from(args, prompt=f"Password for the administrator {args.admin}: ")
    created = create_register(path, office, args.admin, password, args.admin_name)
    created.register.close()
    _remember_register(path)
    if args.recovery_key_out:
        files.atomic_write(Path(args.recovery_key_out), (created.recovery_key + "\n").encode())
    print(f"Created the register {path}")
    print(f"  key file: {files.keys_path(path)} (keep it beside the register)")
    print()
    print("RECOVERY KEY — write it down or print it, and keep it locked away from the computer.")
    print("It opens the register when every administrator password is lost. It is shown only now.")
    print()
    print(f"    {created.recovery_key}")
    print()
    return EXIT_OK


def _remember_register(path: Path) -> None:
    """Put ``path`` first in the recent registers the window offers (a note, never fatal)."""
    from tipdesk.settings import Settings

    settings = Settings.load()
    settings.remember_register(path)
    try:
        settings.save()
    except (OSError, TipdeskError) as exc:
        print(f"tipdesk: note: could not update the list of recent registers ({exc}).", file=sys.stderr)


def cmd_users_list(args: argparse.Namespace) -> int:
    from tipdesk.security.accounts import list_users

    with open_as_user(args) as reg:
        users = list_users(reg)
    print(f"{'user':<20} {'role':<20} {'state':<8} {'last login':<17} name")
    for u in users:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "never"
        print(f"{u.username:<20} {u.role_label:<20} {'active' if u.active else 'revoked':<8} {last:<17} {u.display_name}")
    return EXIT_OK


def cmd_users_add(args: argparse.Namespace) -> int:
    from tipdesk.security.accounts import add_user

    with open_as_user(args) as reg:
        password = new_password_from(args, args.new_user)
        info = add_user(reg, args.new_user, args.role, password, args.display_name or "")
    print(f"Added {info.username} ({info.role_label}).")
    return EXIT_OK


def cmd_users_revoke(args: argparse.Namespace) -> int:
    from tipdesk.security.accounts import revoke_user

    with open_as_user(args) as reg:
        revoke_user(reg, args.target)
    print(f"Revoked {args.target}: that account can no longer open the register. "
          "Backups made before now still open with its old password.")
    return EXIT_OK


def cmd_users_passwd(args: argparse.Namespace) -> int:
    from tipdesk.security.accounts import set_password

    with open_as_user(args) as reg:
        password = new_password_from(args, args.target)
        set_password(reg, args.target, password)
    print(f"Changed the password of {args.target}.")
    return EXIT_OK


def cmd_users_role(args: argparse.Namespace) -> int:
    from tipdesk.security.accounts import change_role

    with open_as_user(args) as reg:
        change_role(reg, args.target, args.role)
    print(f"{args.target} is now {args.role}.")
    return EXIT_OK


def cmd_recover(args: argparse.Namespace) -> int:
    from tipdesk.security.accounts import recover
    from tipdesk.vault.keyslots import parse_recovery_key
    from tipdesk.vault.register import check_register_file

    path = register_path(args.path)
    check_register_file(path)
    key = parse_recovery_key(_read_secret_file(args.recovery_key_file) if args.recovery_key_file
                             else getpass.getpass("Recovery key: "))
    password = new_password_from(args, args.user)
    recover(path, key, args.user, password)
    print(f"Set a new password for {args.user} with the recovery key.")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from tipdesk.vault.check import check_register

    with open_as_user(args, via="check") as reg:
        report = check_register(reg)
    for line in report.lines:
        print(line)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from tipdesk.security import audit

    with open_as_user(args, via="audit_verify") as reg, reg.read() as s:
        result = audit.verify(s)
    print(result.describe())
    return EXIT_OK if result.ok else EXIT_FAILED


# --- commands: returns (TIP-RETURN/1) -------------------------------------------------------------

def cmd_export_return(args: argparse.Namespace) -> int:
    from exports.returns import service
    from tipdesk.counting import parse_period

    period = parse_period(args.period)
    with open_as_user(args) as reg:
        prepared = service.prepare_return(reg, period)
        target = Path(args.out) if args.out else service.default_path(prepared)
        if target.is_dir():
            target = service.default_path(prepared, target)
        written = service.save_return(reg, prepared, target, suppressed=args.suppressed,
                                      replace_existing=args.replace)
    kind = "suppressed copy for publication" if args.suppressed else "return"
    print(f"Wrote the {kind} {written.path}")
    for label, value in prepared.headline()[:4] if not args.suppressed else []:
        print(f"  {label}: {value}")
    print(f"  digest: {written.meta.digest}")
    if not written.meta.linkage_key_id and not args.suppressed:
        print("  note: no national linkage key is set, so every person_key is empty "
              "(tipdesk settings set-linkage-key).")
    return EXIT_OK


def cmd_validate_return(args: argparse.Namespace) -> int:
    from exports.returns.service import check_return_file

    all_ok = True
    for name in args.files:
        report = check_return_file(Path(name))
        for line in report.lines():
            print(line)
        all_ok = all_ok and report.ok
    return EXIT_OK if all_ok else EXIT_FAILED


def cmd_settings_set_linkage_key(args: argparse.Namespace) -> int:
    from tipdesk.services.linkage import parse_key_file_text, set_linkage_key

    try:
        text = Path(args.key_file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"Cannot read the key file {args.key_file}: {exc.strerror}.") from exc
    key = parse_key_file_text(text)
    with open_as_user(args) as reg:
        key_id = set_linkage_key(reg, key)
    print(f"Set the national linkage key (key id {key_id}). Returns prepared from now on carry "
          "person_keys for cases with consent to data sharing.")
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    from ui.app import run_gui  # lazily: the CLI must run without a display

    return run_gui(register_path(args.path) if args.path else None)


# --- commands: synthetic demo registers ---------------------------------------------------------

MAX_DEMO_CASES = 1_000_000


def cmd_demo(args: argparse.Namespace) -> int:
    from tipdesk.demo import DEMO_PASSWORDS, make_demo_register
    from tipdesk.errors import LocationError

    path = register_path(args.path)
    if not 0 <= args.cases <= MAX_DEMO_CASES:
        raise UsageError(f"--cases must be from 0 to {MAX_DEMO_CASES:,}.")
    if path.exists() or files.keys_path(path).exists():
        raise LocationError(f"{path} already exists. tipdesk never overwrites a register; choose another name.")
    password = password_from(args, prompt="Password for the demo administrator 'admin': ")

    def progress(message: str) -> None:
        print(f"  {message}", flush=True)

    print(f"Creating the demo register {path} with {args.cases:,} synthetic cases (seed {args.seed}).")
    result = make_demo_register(path, cases=args.cases, admin_password=password, seed=args.seed,
                                org_code=args.org_code, progress=progress)
    if args.recovery_key_out:
        files.atomic_write(Path(args.recovery_key_out), (result.recovery_key + "\n").encode())
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.seconds.items() if name != "total")
    print(f"Done in {result.seconds['total']:.1f} s ({steps}).")
    print("Synthetic people only — never enter real data here.")
    print("Users: admin (the password you gave), " + ", ".join(
        f"{name} ({password})" for name, password in DEMO_PASSWORDS.items()) + ".")
    print(f"Recovery key: {result.recovery_key}")
    return EXIT_OK


def cmd_screenshots(args: argparse.Namespace) -> int:
    # Offscreen unless told otherwise: the pictures need no display (set before Qt loads).
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.screenshots import run_screenshots  # lazily, like the window

    register = register_path(args.register) if args.register else None
    password = password_from(args) if register is not None else None
    return run_screenshots(Path(args.dir), register, args.user if register else None, password, args.scale)


# --- commands: shelter and follow-up --------------------------------------------------------------


def _date_arg(text: str | None):  # -> datetime.date | None
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"'{text}' is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31.") from exc


def cmd_shelter_occupancy(args: argparse.Namespace) -> int:
    from tipdesk.services.placements import occupancy

    with open_as_user(args) as reg:
        day = _date_arg(args.date)
        found = occupancy(reg, day)
    print(f"{'facility':<10} {'capacity':>8} {'occupied':>8} {'free':>5}  free beds")
    for o in found:
        beds = ", ".join(b.label for b in o.free_beds)
        print(f"{o.code:<10} {o.capacity:>8} {o.occupied:>8} {o.free_places:>5}  {beds}")
    return EXIT_OK


def cmd_shelter_figures(args: argparse.Namespace) -> int:
    from tipdesk.counting import parse_period
    from tipdesk.services.placements import shelter_figures

    period = parse_period(args.period)
    with open_as_user(args) as reg:
        figures = shelter_figures(reg, period)
    print(f"T5 shelter figures, {period.code} ({period.start} to {period.end})")
    print(f"{'facility':<10} {'capacity':>8} {'admissions':>10} {'discharges':>10} {'bed-nights':>10} "
          f"{'occupied at end':>15} {'average stay':>12}")
    for r in (*figures.rows, figures.total):
        avg = "" if r.average_stay is None else f"{r.average_stay:.1f}"
        print(f"{r.code:<10} {r.capacity:>8} {r.admissions:>10} {r.discharges:>10} {r.bed_nights:>10} "
              f"{r.occupied_at_end:>15} {avg:>12}")
    return EXIT_OK


def cmd_followup_queue(args: argparse.Namespace) -> int:
    from tipdesk.services import followup

    if args.page < 1 or not 1 <= args.page_size <= 500:
        raise UsageError("--page starts at 1; --page-size is from 1 to 500.")
    offset = (args.page - 1) * args.page_size
    with open_as_user(args) as reg:
        if args.queue == "high-risk":
            page = followup.high_risk(reg, offset=offset, limit=args.page_size)
            print(f"{page.total:,} open case(s) flagged high risk; page {args.page}.")
            for row in page.rows:
                print(f"  {row.case.case_number:<20} assessed {row.assessed_on or '?'}  "
                      f"next follow-up {row.next_followup_due or 'none'}")
            return EXIT_OK
        today = _date_arg(args.date)
        if args.queue == "overdue":
            page = followup.overdue(reg, today, offset=offset, limit=args.page_size)
            print(f"{page.total:,} follow-up(s) overdue; page {args.page}, oldest first.")
        else:
            page = followup.due_this_week(reg, today, offset=offset, limit=args.page_size)
            print(f"{page.total:,} follow-up(s) due in the next seven days; page {args.page}.")
    for row in page.rows:
        late = f"{row.days_overdue} day(s) overdue" if row.days_overdue else ""
        flag = "HIGH RISK" if row.case_high_risk else ""
        print(f"  {row.case.case_number:<20} due {row.due_date}  {late:<20} {flag}")
    return EXIT_OK


# --- commands: installation checks (self-test, start-up probe) -----------------------------------

def _make_qt_application():  # -> QApplication
    """A widgets application (the self-test's window step needs one, not a QGuiApplication)."""
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "tipdesk"])


def _selftest_widgets(ctx) -> str:  # ctx: tipdesk.selftest.SelfTestContext
    """Plain widgets with text render (before the main window step, which needs much more)."""
    from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QPushButton, QWidget

    from tipdesk.selftest import StepFailed, ink

    form = QWidget()
    form.setWindowTitle(f"tipdesk {__version__} — self-test")
    layout = QFormLayout(form)
    layout.addRow(QLabel("tipdesk self-test: the window toolkit works."))
    name = QLineEdit("Zoë Ñandú")
    label = QLabel("&Name:")
    label.setBuddy(name)
    layout.addRow(label, name)
    layout.addRow(QPushButton("&Open register…"))
    form.resize(420, 140)
    image = form.grab().toImage()
    if ink(image, image.pixel(1, 1)) < 500:
        raise StepFailed("a window with text rendered blank")
    if ctx.screenshot_dir is not None:
        image.save(str(ctx.screenshot_dir / "selftest-window.png"))
    return f"a form with a label, a text field and a button rendered ({image.width()}×{image.height()})"


def _selftest_return(ctx) -> str:  # ctx: tipdesk.selftest.SelfTestContext
    """Export last year's return (holding the self-test's case) and validate the file read back."""
    from exports.returns import service
    from tipdesk.counting import parse_period
    from tipdesk.selftest import StepFailed

    period = parse_period(str(ctx.facts["case_year"]))
    prepared = service.prepare_return(ctx.register, period)
    written = service.save_return(ctx.register, prepared, service.default_path(prepared, ctx.workdir))
    report = service.check_return_file(written.path)
    if not report.ok:
        raise StepFailed("the return just written does not validate: " + "; ".join(report.lines()[:3]))
    if report.ret is None or report.ret.meta.line_count != 1:
        raise StepFailed("the return just written does not hold the self-test's one case")
    return f"{written.path.name} written and validated ({written.path.stat().st_size // 1024} KiB)"


def _selftest_main_window(ctx) -> str:  # ctx: tipdesk.selftest.SelfTestContext
    """The main window opens the self-test's register, signs in, and builds every page.

    Drives the window as a person would: the login dialog, then every page (MainWindow,
    show_login, try_sign_in, specs, go, lock).
    """
    import time

    from PySide6.QtWidgets import QApplication
    from ui.main_window import MainWindow
    from ui.operations import OperationRunner

    from tipdesk.selftest import SELFTEST_PASSWORD, SELFTEST_USER, StepFailed, ink

    def settle(ms: int) -> None:
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.01)

    def wait_until(condition: Callable[[], bool], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise StepFailed(f"signing in through the window took more than {seconds:.0f} s")
            settle(10)

    ctx.close()  # the window opens the register itself
    window = MainWindow(ctx.register_path, OperationRunner())
    try:
        window.resize(1100, 720)
        window.show()
        login = window.show_login()
        login.user_edit.setText(SELFTEST_USER)
        login.password_edit.setText(SELFTEST_PASSWORD)
        login.try_sign_in()
        wait_until(lambda: window.reg is not None, 60)
        for key in reversed(list(window.specs)):  # every page, ending on the first
            window.go(key)
            settle(50)
        image = window.grab().toImage()
        if ink(image, image.pixel(image.width() - 2, image.height() - 2)) < 2000:
            raise StepFailed("the main window rendered (nearly) blank")
        if ctx.screenshot_dir is not None:
            image.save(str(ctx.screenshot_dir / "selftest-main-window.png"))
        pages = len(window.specs)
        window.lock("lock")
    finally:
        window.close()
        window.deleteLater()
    return f"signed in, {pages} pages built ({image.width()}×{image.height()})"


def selftest_extra_steps() -> list:  # -> list[tipdesk.selftest.Step]
    """The self-test steps that need ``exports`` or ``ui`` (added here, the composition root).

    The main-window step runs where ``ui`` is present (it always is in the bundle).
    """
    import importlib.util

    from tipdesk.selftest import Step

    steps = [
        Step("export a return", _selftest_return, needs=("write and read a case",)),
        Step("widgets", _selftest_widgets, needs=("Qt platform",)),
    ]
    if importlib.util.find_spec("ui") is not None and importlib.util.find_spec("ui.main_window") is not None:
        steps.append(Step("main window", _selftest_main_window, needs=("widgets", "register check")))
    return steps


def cmd_startup_probe(args: argparse.Namespace) -> int:
    """Start the window as ``tipdesk [open REGISTER]`` does; exit once its first dialog is painted.

    For measuring cold start (benchmarks/bench_bundle.py times the whole process). The Qt
    application is made here, before the GUI's own start-up code (which reuses it), so that an
    event filter sees the first paint of the first dialog: the login, or the start dialog.
    """
    import time

    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QDialog

    from tipdesk.selftest import choose_qt_platform

    choose_qt_platform()
    started = time.perf_counter()
    app = _make_qt_application()

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
            # The first dialog a person can type into: the login (or, without a register, the
            # start dialog). The main window may paint behind it first; that is not "ready".
            if event.type() == QEvent.Type.Paint and isinstance(obj, QDialog) and obj.isWindow():
                print(f"first window painted: {type(obj).__name__} '{obj.windowTitle()}' "
                      f"{(time.perf_counter() - started) * 1000:.0f} ms after Qt started", flush=True)
                sys.stderr.flush()
                os._exit(EXIT_OK)  # at once: nothing after the first paint belongs in the figure
            return False

    probe = FirstPaint()
    app.installEventFilter(probe)
    from ui.app import run_gui  # lazily, like cmd_open

    return run_gui(register_path(args.startup_probe) if args.startup_probe else None)


def cmd_self_test(args: argparse.Namespace) -> int:
    from tipdesk import selftest

    shots = Path(args.screenshot_dir) if args.screenshot_dir else None
    ok = selftest.run(selftest_extra_steps(), make_app=_make_qt_application, screenshot_dir=shots)
    return EXIT_OK if ok else EXIT_FAILED


# --- commands: backups --------------------------------------------------------------------------

def _progress_printer() -> Callable[[float, str], None] | None:
    """A one-line progress display on a terminal; nothing when output goes to a file."""
    if not sys.stderr.isatty():
        return None
    last = {"shown": -1, "text": ""}

    def show(fraction: float, text: str) -> None:
        percent = int(fraction * 100)
        if percent != last["shown"] or text != last["text"]:
            last.update(shown=percent, text=text)
            print(f"\r  {percent:3d}%  {text:<60}", end="", file=sys.stderr, flush=True)
            if percent >= 100:
                print(file=sys.stderr)

    return show


def _end_progress(printer: Callable[[float, str], None] | None) -> None:
    if printer is not None:
        print("\r" + " " * 70 + "\r", end="", file=sys.stderr, flush=True)


def _backup_credentials(args: argparse.Namespace):  # -> backup.Credentials
    from tipdesk.vault.backup import Credentials
    from tipdesk.vault.keyslots import parse_recovery_key

    if getattr(args, "recovery_key_file", None):
        key = parse_recovery_key(_read_secret_file(args.recovery_key_file))
        return Credentials(username=args.user, recovery_key=key)
    password = password_from(args, prompt="Password (as it was when the backup was made): ")
    return Credentials(username=args.user, password=password)


def cmd_backup(args: argparse.Namespace) -> int:
    from tipdesk.errors import LocationError
    from tipdesk.settings import Settings
    from tipdesk.vault import backup as backups
    from tipdesk.vault.register import check_register_file

    path = register_path(args.path)
    check_register_file(path)
    folder = Path(args.to).expanduser() if args.to else None
    if folder is None:
        notes = Settings.load().registers.get(str(path.resolve()))
        if notes is not None and notes.backup_destination:
            folder = Path(notes.backup_destination)
    if folder is not None:  # before asking for a password: is the USB stick there?
        problem = backups.destination_problem(folder)
        if problem:
            raise LocationError(problem)
    printer = _progress_printer()
    with open_as_user(args) as reg:
        if folder is None:
            remembered = backups.preferences(reg).destination
            if not remembered:
                raise UsageError(
                    f"No backup folder has been chosen for {path.name} yet. Say where with --to "
                    "FOLDER (for example a folder on a USB stick); tipdesk remembers it for next time."
                )
            folder = Path(remembered)
        try:
            result = backups.backup(reg, folder, progress=printer)
        finally:
            _end_progress(printer)
    counts = f"{sum(result.row_counts.values()):,} rows in {len(result.row_counts)} tables"
    print(f"Backed up {path.name} to {result.path} ({result.megabytes:,.1f} MB, {result.seconds:.1f} s).")
    print(f"Verified: database integrity, encryption, audit chain ({result.audit_events:,} events), {counts}.")
    if result.deleted:
        print(f"Removed {len(result.deleted)} older backups (tipdesk keeps the last {result.keep_last} "
              f"and one a month for a year): {', '.join(result.deleted)}")
    for warning in result.warnings:
        print(f"Note: {warning}")
    print("This backup opens with the passwords valid today, and with the recovery key. "
          "Keep it away from this computer.")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from tipdesk.vault import backup as backups

    source = Path(args.backup).expanduser()
    target = register_path(args.to)
    manifest = backups.check_restore(source, target, args.replace)  # before asking for a password
    credentials = _backup_credentials(args)
    printer = _progress_printer()
    try:
        result = backups.restore(source, target, credentials, replace=args.replace, progress=printer)
    finally:
        _end_progress(printer)
    print(f"Restored {source.name} (made {backups.local_time(manifest.created_at)} by tipdesk "
          f"{manifest.software_version}) as {result.path}.")
    if result.moved_aside:
        print("The register that was there was moved aside, not deleted: "
              + ", ".join(p.name for p in result.moved_aside))
    print(result.sentence)
    for warning in result.warnings:
        print(f"Note: {warning}")
    return EXIT_OK


def cmd_backup_verify(args: argparse.Namespace) -> int:
    from tipdesk.vault import backup as backups

    source = Path(args.backup).expanduser()
    backups.read_manifest(source)  # a damaged file is reported before asking for a password
    credentials = _backup_credentials(args)
    printer = _progress_printer()
    try:
        report = backups.verify_backup(source, credentials, progress=printer)
    finally:
        _end_progress(printer)
    for line in report.lines:
        print(line)
    if report.restorable:
        print(f"{source.name} is a sound backup; this version of tipdesk can restore it.")
    elif report.ok:
        print(f"{source.name} is sound, but only a newer version of tipdesk can restore it.")
    else:
        print(f"{source.name} did NOT pass its check: do not rely on it. Make a new backup.")
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_backup_settings(args: argparse.Namespace) -> int:
    from tipdesk.vault import backup as backups

    changing = args.keep is not None or args.remind_after_days is not None or args.to is not None
    with open_as_user(args) as reg:
        if changing:
            destination = str(Path(args.to).expanduser()) if args.to is not None else None
            prefs = backups.set_preferences(reg, destination=destination, keep_last=args.keep,
                                            remind_after_days=args.remind_after_days)
        else:
            prefs = backups.preferences(reg)
        status = backups.status(reg)
    print(f"Backup folder: {prefs.destination or '(none chosen yet)'}")
    print(f"Kept per folder: the last {prefs.keep_last}, and one a month for a year")
    print(f"Reminder after: {prefs.remind_after_days} days without a backup")
    print(status.sentence)
    return EXIT_OK


# --- the parser ---------------------------------------------------------------------------------

def _add_auth(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", help="acting user (default: the register's only administrator)")
    p.add_argument("--password-file", metavar="FILE", help="read the password from the first line of FILE")


def _add_new_password(p: argparse.ArgumentParser) -> None:
    p.add_argument("--new-password-file", metavar="FILE", help="read the new password from FILE")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tipdesk",
        description="Encrypted case register and standardised returns for counter-trafficking offices.",
        epilog="Passwords: prompt, --password-file FILE, or TIPDESK_PASSWORD. Exit codes: see README.",
    )
    parser.add_argument("--version", action="version", version=f"tipdesk {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this installation works (temporary register, no display needed)")
    parser.add_argument("--screenshot-dir", metavar="DIR",
                        help="with --self-test: save the rendered text and window as PNG files in DIR")
    parser.add_argument("--startup-probe", nargs="?", const="", metavar="REGISTER",
                        help="start the window (on REGISTER: its login) and quit once it is painted "
                             "(for timing start-up)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # One function per area adds its commands (keeps areas apart when they grow).
    for add_commands in (_register_commands, _demo_commands, _returns_commands, _shelter_commands,
                         _backup_commands, _gui_commands):
        add_commands(sub)
    return parser


def _register_commands(sub: argparse._SubParsersAction) -> None:
    """Registers and accounts: init, users, recover, check, audit."""
    p = sub.add_parser("init", help="create a new register with its first administrator")
    p.add_argument("path")
    p.add_argument("--org-code", required=True, help="office code, 2–10 of A–Z 0–9")
    p.add_argument("--org-name", required=True)
    p.add_argument("--org-type", required=True, help="HTCDS org_Type, e.g. NGO, LawEnforcement")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-3, e.g. JAM")
    p.add_argument("--admin", required=True, help="user name of the first administrator")
    p.add_argument("--admin-name", help="display name of the first administrator")
    p.add_argument("--recovery-key-out", metavar="FILE", help="also save the recovery key to FILE")
    p.add_argument("--password-file", metavar="FILE", help="the administrator's password")
    p.set_defaults(handler=cmd_init)

    users = sub.add_parser("users", help="list, add, revoke users; change passwords and roles")
    usub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    p = usub.add_parser("list", help="list the accounts")
    p.add_argument("path")
    _add_auth(p)
    p.set_defaults(handler=cmd_users_list)
    p = usub.add_parser("add", help="add an account")
    p.add_argument("path")
    p.add_argument("new_user", metavar="NEW_USER")
    p.add_argument("--role", required=True, help="admin, caseworker, police, analyst or auditor")
    p.add_argument("--display-name")
    _add_auth(p)
    _add_new_password(p)
    p.set_defaults(handler=cmd_users_add)
    p = usub.add_parser("revoke", help="revoke an account (its key slot is destroyed)")
    p.add_argument("path")
    p.add_argument("target", metavar="USER_TO_REVOKE")
    _add_auth(p)
    p.set_defaults(handler=cmd_users_revoke)
    p = usub.add_parser("passwd", help="set a user's password")
    p.add_argument("path")
    p.add_argument("target", metavar="USER")
    _add_auth(p)
    _add_new_password(p)
    p.set_defaults(handler=cmd_users_passwd)
    p = usub.add_parser("role", help="change a user's role")
    p.add_argument("path")
    p.add_argument("target", metavar="USER")
    p.add_argument("role")
    _add_auth(p)
    p.set_defaults(handler=cmd_users_role)

    p = sub.add_parser("recover", help="set a new password with the recovery key")
    p.add_argument("path")
    p.add_argument("--recovery-key-file", metavar="FILE", help="file holding the recovery key")
    p.add_argument("--user", required=True, help="the account to give a new password")
    _add_new_password(p)
    p.set_defaults(handler=cmd_recover)

    p = sub.add_parser("check", help="integrity, encryption, key file and audit chain")
    p.add_argument("path")
    _add_auth(p)
    p.set_defaults(handler=cmd_check)

    audit_p = sub.add_parser("audit", help="audit trail tools")
    asub = audit_p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    p = asub.add_parser("verify", help="verify the audit chain")
    p.add_argument("path")
    _add_auth(p)
    p.set_defaults(handler=cmd_audit_verify)


def _demo_commands(sub: argparse._SubParsersAction) -> None:
    """Synthetic demo registers."""
    p = sub.add_parser("demo", help="create a demo register filled with synthetic cases")
    p.add_argument("path")
    p.add_argument("--cases", type=int, default=1000, help="how many synthetic cases (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same people (default 1)")
    p.add_argument("--org-code", default="DEMO", help="office code, 2–10 of A–Z 0–9 (default DEMO)")
    p.add_argument("--recovery-key-out", metavar="FILE", help="also save the recovery key to FILE")
    p.add_argument("--password-file", metavar="FILE", help="the demo administrator's password")
    p.set_defaults(handler=cmd_demo)


def _returns_commands(sub: argparse._SubParsersAction) -> None:
    """Standardised returns (TIP-RETURN/1): export, validate; the national linkage key."""
    p = sub.add_parser("export-return", help="write the standardised Excel return of a period")
    p.add_argument("path", help="the register")
    p.add_argument("--period", required=True, help="a quarter like 2026-Q3, or a year like 2026")
    p.add_argument("--out", metavar="FILE", help="where to write (default: TIPRETURN_<ORGCODE>_<PERIOD>.xlsx "
                   "in the current folder; a folder: that name in it)")
    p.add_argument("--suppressed", action="store_true",
                   help="a copy for publication: no line list, counts from 1 to 4 shown as <5")
    p.add_argument("--replace", action="store_true", help="replace an existing file of that name")
    _add_auth(p)
    p.set_defaults(handler=cmd_export_return)

    p = sub.add_parser("validate-return", help="check return files against TIP-RETURN/1 (exit 1 if any is invalid)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(handler=cmd_validate_return)

    settings = sub.add_parser("settings", help="register settings")
    ssub = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    p = ssub.add_parser("set-linkage-key", help="set the national linkage key from the secretariat's file")
    p.add_argument("path")
    p.add_argument("--key-file", required=True, metavar="FILE", help="the file with 64 hexadecimal digits")
    _add_auth(p)
    p.set_defaults(handler=cmd_settings_set_linkage_key)


def _shelter_commands(sub: argparse._SubParsersAction) -> None:
    """Shelter occupancy and figures; follow-up work queues (case numbers only, never names)."""
    shelter = sub.add_parser("shelter", help="shelter occupancy and T5 figures")
    ssub = shelter.add_subparsers(dest="shelter_command", metavar="ACTION", required=True)
    p = ssub.add_parser("occupancy", help="occupancy and free beds of every facility on a date")
    p.add_argument("path")
    p.add_argument("--date", help="YYYY-MM-DD (default: today)")
    _add_auth(p)
    p.set_defaults(handler=cmd_shelter_occupancy)
    p = ssub.add_parser("figures", help="admissions, discharges, bed-nights, occupancy, average stay")
    p.add_argument("path")
    p.add_argument("--period", required=True, help="a quarter like 2026-Q3 or a year like 2026")
    _add_auth(p)
    p.set_defaults(handler=cmd_shelter_figures)

    fol = sub.add_parser("followup", help="follow-up work queues")
    fsub = fol.add_subparsers(dest="followup_command", metavar="ACTION", required=True)
    p = fsub.add_parser("queue", help="overdue, due this week, or high-risk cases")
    p.add_argument("path")
    p.add_argument("queue", choices=("overdue", "due", "high-risk"))
    p.add_argument("--date", help="today's date for the queue, YYYY-MM-DD (default: today)")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--page-size", type=int, default=50)
    _add_auth(p)
    p.set_defaults(handler=cmd_followup_queue)


def _backup_commands(sub: argparse._SubParsersAction) -> None:
    """Backups: backup, restore, backup-verify."""
    p = sub.add_parser("backup", help="write a verified backup file (NAME-YYYYMMDD-HHMMSS.tipbak)")
    p.add_argument("path")
    p.add_argument("--to", metavar="FOLDER",
                   help="where to put it, e.g. a folder on a USB stick (remembered; default: the last one)")
    _add_auth(p)
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", help="restore a backup as a register (checks it in full first)")
    p.add_argument("backup", metavar="BACKUP")
    p.add_argument("--to", required=True, metavar="PATH", help="the register to create")
    p.add_argument("--replace", action="store_true",
                   help="replace the register at PATH (it is moved aside first, never deleted)")
    p.add_argument("--user", help="an administrator of the backup (default: its only one)")
    p.add_argument("--password-file", metavar="FILE", help="that user's password as it was at backup time")
    p.add_argument("--recovery-key-file", metavar="FILE", help="use the recovery key instead (with --user)")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser("backup-verify", help="check a backup file: integrity, audit chain, schema, counts")
    p.add_argument("backup", metavar="BACKUP")
    p.add_argument("--user", help="a user of the backup (default: its only administrator)")
    p.add_argument("--password-file", metavar="FILE", help="that user's password as it was at backup time")
    p.add_argument("--recovery-key-file", metavar="FILE", help="use the recovery key instead")
    p.set_defaults(handler=cmd_backup_verify)

    p = sub.add_parser("backup-settings", help="show or change the backup folder, number kept, reminder")
    p.add_argument("path")
    p.add_argument("--to", metavar="FOLDER", help="the backup folder to remember")
    p.add_argument("--keep", type=int, metavar="N", help="recent backups kept per folder (default 10)")
    p.add_argument("--remind-after-days", type=int, metavar="N", help="remind after N days (default 7)")
    _add_auth(p)
    p.set_defaults(handler=cmd_backup_settings)


def _gui_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("open", help="open the window (the default without a command)")
    p.add_argument("path", nargs="?")
    p.set_defaults(handler=cmd_open)
    p = sub.add_parser("screenshots", help="render the main windows offscreen into PNG files")
    p.add_argument("dir", help="folder for the pictures, e.g. docs/screenshots")
    p.add_argument("--register", metavar="PATH",
                   help="a register to show (default: a new one with synthetic data only)")
    p.add_argument("--scale", type=float, metavar="FACTOR",
                   help="render at this scaling, e.g. 2 for 200 %% (HiDPI screens)")
    _add_auth(p)
    p.set_defaults(handler=cmd_screenshots)


def main(argv: Sequence[str] | None = None) -> int:
    files.private_umask()
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        argv = ["open"]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a usage error
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if args.self_test:
        args.handler = cmd_self_test
    elif args.startup_probe is not None:
        args.handler = cmd_startup_probe
    elif args.screenshot_dir:
        parser.print_usage(sys.stderr)
        print("tipdesk: --screenshot-dir goes with --self-test", file=sys.stderr)
        return EXIT_USAGE
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except TipdeskError as exc:
        print(f"tipdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("tipdesk: interrupted; nothing half-done was kept.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
