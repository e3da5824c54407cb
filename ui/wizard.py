"""Creating a register from the window: where, office, first administrator, recovery key.

The recovery key is shown once, with Print…, Save as PDF… and Save as text…, and the wizard
cannot finish until the person ticks "I have stored the recovery key safely".
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF, Qt, Slot
from PySide6.QtGui import QFont, QFontDatabase, QPageLayout, QPageSize, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from tipdesk.errors import TipdeskError
from tipdesk.vault import files
from tipdesk.vault.register import CreatedRegister, OfficeDetails, create_register
from ui.dialogs import password_edit
from ui.i18n import tr
from ui.operations import OperationRunner
from ui.pages.admin import country_combo, org_type_combo
from ui.widgets import ERROR_STYLE, FieldRow, add_row


def _message_label(parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


class PlacePage(QWizardPage):
    def __init__(self, default_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(tr("Wizard", "Where to keep the register"))
        self.setSubTitle(tr("Wizard", "A register is two files side by side: the register itself and its key "
                            "file. Keep them on this computer's own disk, never on a network share."))
        form = QFormLayout(self)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(default_folder / "office.tipdb"), self)
        browse = QPushButton(tr("Wizard", "&Browse…"), self)
        browse.setAccessibleName(tr("Wizard", "Browse for a place"))
        browse.clicked.connect(self._browse)
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        holder = QWidget(self)
        holder.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel(tr("Wizard", "&File:"), self)
        label.setBuddy(self.path_edit)
        self.path_edit.setAccessibleName(tr("Wizard", "Register file"))
        form.addRow(label, holder)
        self.message = _message_label(self)
        form.addRow(self.message)
        self.path_edit.textChanged.connect(self.completeChanged)

    @Slot()
    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Wizard", "New register"), self.path_edit.text(),
                                              tr("Wizard", "tipdesk registers (*.tipdb)"))
        if name:
            self.path_edit.setText(name)

    def path(self) -> Path:
        return files.normalise_register_path(self.path_edit.text().strip())

    def isComplete(self) -> bool:  # noqa: N802 (Qt API)
        return bool(self.path_edit.text().strip())

    def validatePage(self) -> bool:  # noqa: N802
        path = self.path()
        problem = ""
        if path.exists() or files.keys_path(path).exists():
            problem = tr("Wizard", "{name} exists already. tipdesk never overwrites a register: choose "
                         "another name.").format(name=path.name)
        elif not path.parent.is_dir():
            problem = tr("Wizard", "The folder {folder} does not exist.").format(folder=path.parent)
        else:
            try:
                files.refuse_network_location(path)
            except TipdeskError as exc:
                problem = str(exc)
        self.message.setText(problem)
        self.message.setVisible(bool(problem))
        return not problem


class OfficePage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(tr("Wizard", "This office"))
        self.setSubTitle(tr("Wizard", "The office code starts every case number (e.g. OAS-2026-0001) and "
                            "cannot change later."))
        form = QFormLayout(self)
        self.code = QLineEdit(self)
        self.code.setMaxLength(10)
        self.name = QLineEdit(self)
        self.org_type = org_type_combo(self)
        self.country = country_combo(self)
        self.country.setCurrentIndex(max(0, self.country.findData("JAM")))
        self.rows: dict[str, FieldRow] = {
            "code": add_row(form, tr("Wizard", "Office &code:"), self.code),
            "name": add_row(form, tr("Wizard", "Office &name:"), self.name),
            "org_type": add_row(form, tr("Wizard", "&Kind of organisation:"), self.org_type),
            "country": add_row(form, tr("Wizard", "C&ountry:"), self.country),
        }
        self.code.textEdited.connect(lambda t: self.code.setText(t.upper()))

    def details(self) -> OfficeDetails:
        return OfficeDetails(self.code.text().strip().upper(), self.name.text().strip(),
                             str(self.org_type.currentData()), str(self.country.currentData()))

    def validatePage(self) -> bool:  # noqa: N802
        import re

        d = self.details()
        problems = {}
        if not re.fullmatch(r"[A-Z0-9]{2,10}", d.code):
            problems["code"] = tr("Wizard", "2 to 10 capital letters or digits, e.g. OAS.")
        if not d.name:
            problems["name"] = tr("Wizard", "The office needs a name.")
        for key, row in self.rows.items():
            row.set_error(problems.get(key, ""))
        if problems:
            self.rows[next(iter(problems))].field.setFocus()
        return not problems


class AdministratorPage(QWizardPage):
    """The first administrator; pressing Create makes the register (on the runner)."""

    def __init__(self, wizard: CreateRegisterWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle(tr("Wizard", "The first administrator"))
        self.setSubTitle(tr("Wizard", "This account manages users and settings. Add the other staff "
                            "afterwards under Administration."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, tr("Wizard", "&Create register"))
        form = QFormLayout(self)
        self.username = QLineEdit("admin", self)
        self.display_name = QLineEdit(self)
        self.password = password_edit(self)
        self.again = password_edit(self)
        self.rows: dict[str, FieldRow] = {
            "username": add_row(form, tr("Wizard", "&User name:"), self.username),
            "display_name": add_row(form, tr("Wizard", "&Shown as:"), self.display_name),
            "password": add_row(form, tr("Wizard", "&Password:"), self.password),
            "again": add_row(form, tr("Wizard", "Type it &again:"), self.again),
        }
        hint = QLabel(tr("Wizard", "At least 8 characters. Nobody can read the register without a "
                         "password or the recovery key shown next."), self)
        hint.setWordWrap(True)
        form.addRow(hint)
        self.message = _message_label(self)
        form.addRow(self.message)

    def validatePage(self) -> bool:  # noqa: N802
        import re

        if self._wizard.created is not None:
            return True
        problems = {}
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,31}", self.username.text().strip().lower()):
            problems["username"] = tr("Wizard", "2 to 32 characters: letters, digits, dot, dash or "
                                      "underscore, starting with a letter or digit.")
        if len(self.password.text()) < 8:
            problems["password"] = tr("Wizard", "A password must have at least 8 characters.")
        elif self.password.text() != self.again.text():
            problems["again"] = tr("Wizard", "The two passwords are not the same.")
        for key, row in self.rows.items():
            row.set_error(problems.get(key, ""))
        if problems:
            self.rows[next(iter(problems))].field.setFocus()
            return False
        self._wizard.start_creating()
        return False  # the wizard moves on by itself once the register exists


class RecoveryKeyPage(QWizardPage):
    def __init__(self, wizard: CreateRegisterWizard) -> None:
        super().__init__(wizard)
        self._wizard = wizard
        self.setTitle(tr("Wizard", "The recovery key"))
        self.setSubTitle(tr("Wizard", "Shown only now. With it, an administrator can open the register when "
                            "every password is lost. Whoever holds it can read every record."))
        box = QVBoxLayout(self)
        self.key_label = QLabel(self)
        self.key_label.setObjectName("recoveryKey")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(mono.pointSizeF() * 1.3)
        mono.setWeight(QFont.Weight.DemiBold)
        self.key_label.setFont(mono)
        self.key_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.key_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.key_label.setWordWrap(True)
        self.key_label.setStyleSheet("padding: 12px; border: 1px solid palette(mid);")
        self.key_label.setAccessibleName(tr("Wizard", "Recovery key"))
        box.addWidget(self.key_label)
        advice = QLabel(tr("Wizard", "Print it or write it down, and lock it away from this computer "
                           "(a safe, or a sealed envelope with the director)."), self)
        advice.setWordWrap(True)
        box.addWidget(advice)
        row = QHBoxLayout()
        self.print_button = QPushButton(tr("Wizard", "&Print…"), self)
        self.pdf_button = QPushButton(tr("Wizard", "Save as P&DF…"), self)
        self.text_button = QPushButton(tr("Wizard", "Save as &text…"), self)
        for b, slot in ((self.print_button, self.print_key), (self.pdf_button, self.save_pdf),
                        (self.text_button, self.save_text)):
            b.setAccessibleName(b.text().replace("&", "").rstrip("…"))
            b.clicked.connect(slot)
            row.addWidget(b)
        row.addStretch(1)
        box.addLayout(row)
        self.stored = QCheckBox(tr("Wizard", "I have &stored the recovery key safely"), self)
        self.stored.setObjectName("keyStored")
        self.stored.setAccessibleName(tr("Wizard", "I have stored the recovery key safely"))
        self.stored.toggled.connect(self.completeChanged)
        box.addWidget(self.stored)
        self.result = QLabel(self)
        self.result.setWordWrap(True)
        box.addWidget(self.result)
        box.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802
        created = self._wizard.created
        key = created.recovery_key if created else ""
        groups = key.split("-")
        # Two lines of four groups: easier to copy by hand than one long line broken anywhere.
        self.key_label.setText("-".join(groups[:4]) + "-\n" + "-".join(groups[4:]) if len(groups) == 8 else key)

    def isComplete(self) -> bool:  # noqa: N802
        return self.stored.isChecked()

    def _document(self) -> QTextDocument:
        created = self._wizard.created
        assert created is not None
        office = self._wizard.office_page.details()
        doc = QTextDocument()
        key = created.recovery_key
        doc.setHtml(
            "<h2>" + tr("Wizard", "tipdesk recovery key") + "</h2>"
            + "<p>" + tr("Wizard", "Office: {code} — {name}").format(code=office.code, name=office.name) + "<br>"
            + tr("Wizard", "Register file: {file}").format(file=self._wizard.place_page.path().name) + "</p>"
            + f"<p style='font-family: monospace; font-size: 16pt;'>{key}</p>"
            + "<p>" + tr("Wizard", "Keep this paper locked away from the computer. With it, an administrator "
                         "can open the register when every password is lost (tipdesk recover). Whoever "
                         "holds it can read every record.") + "</p>")
        return doc

    @Slot()
    def print_key(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self._document().print_(printer)
            self.result.setText(tr("Wizard", "Sent to the printer."))

    @Slot()
    def save_pdf(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Wizard", "Save the recovery key as PDF"),
                                              "recovery-key.pdf", tr("Wizard", "PDF files (*.pdf)"))
        if name:
            self.write_pdf(Path(name))

    def write_pdf(self, target: Path) -> None:
        from PySide6.QtPrintSupport import QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        printer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                          QMarginsF(20, 20, 20, 20)))
        self._document().print_(printer)
        self.result.setText(tr("Wizard", "Saved {file}. Print it, then move it off this computer.").format(
            file=target.name))

    @Slot()
    def save_text(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, tr("Wizard", "Save the recovery key as text"),
                                              "recovery-key.txt", tr("Wizard", "Text files (*.txt)"))
        if name:
            self.write_text(Path(name))

    def write_text(self, target: Path) -> None:
        created = self._wizard.created
        assert created is not None
        try:
            files.atomic_write(target, (created.recovery_key + "\n").encode("ascii"))
        except TipdeskError as exc:
            self.result.setText(str(exc))
            return
        self.result.setText(tr("Wizard", "Saved {file}. Move it to a USB stick kept locked away, then "
                               "delete it from this computer.").format(file=target.name))


class CreateRegisterWizard(QWizard):
    """Walks through creating a register; ``created`` holds it (open, as the admin) at the end."""

    def __init__(self, runner: OperationRunner, default_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CreateRegisterWizard")
        self.runner = runner
        if runner.parent() is None:
            runner.setParent(self)
        self.created: CreatedRegister | None = None
        self.setWindowTitle(tr("Wizard", "Create a register"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setMinimumSize(640, 460)
        self.place_page = PlacePage(default_folder, self)
        self.office_page = OfficePage(self)
        self.admin_page = AdministratorPage(self)
        self.key_page = RecoveryKeyPage(self)
        for page in (self.place_page, self.office_page, self.admin_page, self.key_page):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, tr("Wizard", "&Open the register"))
        self.setButtonText(QWizard.WizardButton.NextButton, tr("Wizard", "&Next >"))
        self.setButtonText(QWizard.WizardButton.BackButton, tr("Wizard", "< &Back"))
        self.setButtonText(QWizard.WizardButton.CancelButton, tr("Wizard", "Cancel"))

    def start_creating(self) -> None:
        path = self.place_page.path()
        office = self.office_page.details()
        user = self.admin_page.username.text().strip().lower()
        shown = self.admin_page.display_name.text().strip() or None
        password = self.admin_page.password.text()
        self.button(QWizard.WizardButton.CommitButton).setEnabled(False)

        def done(created: CreatedRegister) -> None:
            self.created = created
            self.admin_page.password.clear()
            self.admin_page.again.clear()
            self.next()

        def failed(exc: BaseException) -> None:
            self.button(QWizard.WizardButton.CommitButton).setEnabled(True)
            text = str(exc) if isinstance(exc, TipdeskError) else tr(
                "Wizard", "The register could not be created ({kind}).").format(kind=type(exc).__name__)
            self.admin_page.message.setText(text)
            self.admin_page.message.show()

        self.runner.run(lambda _p: create_register(path, office, user, password, shown), done, failed,
                        label=tr("Wizard", "Creating the register (a few seconds: the password is "
                                 "protected with deliberately slow work)…"), parent=self, cancellable=False)

    def reject(self) -> None:
        if self.created is not None:
            return  # the register exists: the person must take note of the recovery key first
        super().reject()
