"""Translations: the catalogues are Qt Linguist files built from the window's strings, and the
one of the language in the settings is loaded at start (with Qt's own)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication

from ui import translations

pytestmark = pytest.mark.gui

SPANISH = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="es" sourcelanguage="en">
<context>
    <name>Nav</name>
    <message>
        <source>Cases</source>
        <translation>Casos</translation>
    </message>
</context>
<context>
    <name>Vocabulary</name>
    <message>
        <source>Actual victim of trafficking</source>
        <translation>Víctima de trata confirmada</translation>
    </message>
</context>
</TS>
"""


@pytest.fixture
def app(qapp):
    yield qapp
    from ui.app import load_translations

    load_translations(qapp, "en")  # leave English for the other tests


def test_the_shipped_catalogues_hold_the_window_strings_and_build(tmp_path: Path) -> None:
    english = translations.ts_path("en").read_text(encoding="utf-8")
    for context, text in (("Nav", "Cases"), ("Case", "&amp;Save"), ("Returns", "&amp;Save return…"),
                          ("Vocabulary", "Actual victim of trafficking"), ("Roles", "Secretariat analyst")):
        assert f"<name>{context}</name>" in english and f"<source>{text}</source>" in english, (context, text)
    spanish = translations.ts_path("es").read_text(encoding="utf-8")
    assert 'language="es" sourcelanguage="en"' in spanish
    built = translations.release(out=tmp_path)
    assert {p.name for p in built} >= {"tipdesk_en.qm", "tipdesk_es.qm"}
    assert all(p.stat().st_size > 0 for p in built)


def test_the_language_setting_loads_the_catalogue(app, tmp_path: Path) -> None:
    from ui.app import load_translations
    from ui.i18n import tr

    (tmp_path / "tipdesk_es.ts").write_text(SPANISH, encoding="utf-8")
    subprocess.run([translations.tool("pyside6-lrelease"), str(tmp_path / "tipdesk_es.ts"), "-qm",
                    str(tmp_path / "tipdesk_es.qm")], check=True, capture_output=True)
    installed = load_translations(app, "es", folder=tmp_path)
    assert "tipdesk_es" in " ".join(t.filePath() for t in installed)
    assert tr("Nav", "Cases") == "Casos"
    assert tr("Vocabulary", "Actual victim of trafficking") == "Víctima de trata confirmada"
    assert tr("Nav", "Returns") == "Returns"  # not translated yet: English stays
    load_translations(app, "en", folder=tmp_path)
    assert tr("Nav", "Cases") == "Cases"  # switching back removes the Spanish catalogue


def test_the_window_starts_with_the_language_of_the_settings(app, tmp_path: Path, monkeypatch) -> None:
    from tipdesk.settings import Settings
    from ui import app as app_module

    (tmp_path / "tipdesk_es.ts").write_text(SPANISH, encoding="utf-8")
    subprocess.run([translations.tool("pyside6-lrelease"), str(tmp_path / "tipdesk_es.ts"), "-qm",
                    str(tmp_path / "tipdesk_es.qm")], check=True, capture_output=True)
    settings = Settings.load()
    settings.language = "es"
    settings.save()
    monkeypatch.setattr(app_module, "TRANSLATIONS", tmp_path)
    app_module.make_application()
    assert QCoreApplication.translate("Nav", "Cases") == "Casos"


def test_lupdate_reads_tr_as_translate_with_its_context(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text('from ui.i18n import tr\ntr("Sample", "Hello there")\n', encoding="utf-8")
    subprocess.run([translations.tool("pyside6-lupdate"), "-tr-function-alias", translations.ALIASES,
                    str(source), "-ts", str(tmp_path / "s.ts")], check=True, capture_output=True)
    text = (tmp_path / "s.ts").read_text(encoding="utf-8")
    assert "<name>Sample</name>" in text and "<source>Hello there</source>" in text
