"""What goes into the desktop bundle: data files, hidden imports, exclusions (used by tipdesk.spec).

Kept apart from the spec, which PyInstaller executes with injected globals, so that tests can
import these lists and check them against the source tree: a data file added to a package but
not listed here fails a test instead of failing on an office PC.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Our own top-level packages (``exports`` and ``ui`` once they exist on main).
PACKAGES = ("tipdesk", "models", "exports", "ui", "resources")

#: Data files, as (source relative to ROOT, glob, destination folder inside the bundle).
#: Alembic loads ``env.py``, ``script.py.mako`` and every revision from the file system, so the
#: migrations travel as files beside the compiled code, where ``tipdesk.vault.migrate`` looks.
DATA_FILES: tuple[tuple[str, str, str], ...] = (
    # The one version number: tipdesk.__version__ can read it beside the package, as in a
    # checkout, which is faster than importlib.metadata (whose metadata is copied too).
    (".", "pyproject.toml", "."),
    ("tipdesk/vault/migrations", "env.py", "tipdesk/vault/migrations"),
    ("tipdesk/vault/migrations", "script.py.mako", "tipdesk/vault/migrations"),
    ("tipdesk/vault/migrations/versions", "*.py", "tipdesk/vault/migrations/versions"),
    ("resources/icons", "*.png", "resources/icons"),
    ("resources/icons", "*.svg", "resources/icons"),
    ("resources/icons", "*.ico", "resources/icons"),
    ("resources/translations", "*.qm", "resources/translations"),
    ("resources/templates", "*", "resources/templates"),
    ("exports/templates", "*", "exports/templates"),
)

#: Linux only: fonts.conf that lets the bundled fontconfig find the system's fonts (and the
#: fonts we ship, if the system has none); see installer/rthooks/fontconfig.py.
LINUX_DATA_FILES: tuple[tuple[str, str, str], ...] = (
    ("installer/linux", "fonts.conf", "fontconfig"),
    # Menu entry and *.tipdb association, installed by install-desktop-entry.sh.
    ("resources", "tipdesk.desktop", "resources"),
    ("resources", "tipdesk-mime.xml", "resources"),
)

#: Non-Python files in our packages that are deliberately not in the bundle.
NOT_BUNDLED: tuple[str, ...] = (
    # Qt Linguist sources: the bundle carries the .qm files built from them (tasks.py dist).
    "resources/translations/tipdesk_en.ts",
    "resources/translations/tipdesk_es.ts",
)

#: Files copied beside the executables (not into _internal/), per platform.
TOP_LEVEL_FILES: dict[str, tuple[str, ...]] = {
    "linux": ("installer/linux/install-desktop-entry.sh",),
}

#: Modules loaded by name at run time, which PyInstaller's import analysis cannot see.
HIDDEN_IMPORTS_STATIC: tuple[str, ...] = (
    # SQLAlchemy finds our dialect through registry.register(), by module name.
    "tipdesk.vault.engine",
    "sqlalchemy.dialects.sqlite",
    "sqlalchemy.dialects.sqlite.pysqlcipher",
    "sqlalchemy.dialects.sqlite.pysqlite",
    "sqlcipher3",
    "sqlcipher3.dbapi2",
    # Alembic: the environment and revision files are executed from disk, by path.
    "alembic",
    "alembic.command",
    "alembic.config",
    "alembic.context",
    "alembic.op",
    "alembic.ddl",
    "alembic.ddl.sqlite",
    "alembic.runtime.environment",
    "alembic.runtime.migration",
    "alembic.script",
    # argon2-cffi's binding is a cffi extension module.
    "argon2",
    "argon2.low_level",
    "_argon2_cffi_bindings",
    "_cffi_backend",
    "cryptography.hazmat.primitives.ciphers.aead",
    "python_calamine",
    "platformdirs",
)

#: Never needed at run time, and some pull in large trees when a library imports them lazily.
EXCLUDES: tuple[str, ...] = (
    "tkinter",
    "_tkinter",
    "pytest",
    "_pytest",
    "pytestqt",
    "pydoc_data",
    "lib2to3",
    "setuptools",
    "pkg_resources",
    "PyInstaller",
    # tipdesk never goes online: no TLS (saves OpenSSL's libssl and libcrypto, 6 MB; hashlib
    # falls back to Python's own SHA-2 and BLAKE2, but has no pbkdf2_hmac or scrypt — a test
    # checks they are not used; cryptography carries its own OpenSSL).
    "ssl",
    "_ssl",
    "_hashlib",
    # Registers are SQLCipher (sqlcipher3); the stdlib's plain sqlite3 is never used.
    "sqlite3",
    "_sqlite3",
    # Qt modules we never use. Each one named here would otherwise be collected with its plugins
    # and libraries as soon as some module mentions it (measured: see docs/performance.md).
    # Not QtNetwork: the window's single-instance guard uses QLocalServer.
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtQuick3D",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebChannel",
    "PySide6.QtWebSockets",
    "PySide6.QtMultimedia",
    "PySide6.QtMultimediaWidgets",
    "PySide6.QtPdf",
    "PySide6.QtPdfWidgets",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "PySide6.QtHelp",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.Qt3DCore",
    "PySide6.QtBluetooth",
    "PySide6.QtPositioning",
    "PySide6.QtLocation",
    "PySide6.QtSensors",
    "PySide6.QtSerialPort",
    "PySide6.QtTextToSpeech",
    "PySide6.QtAsyncio",
)

#: Qt plugins of collected modules that tipdesk never loads, matched against the path under
#: ``plugins/``. Several drag in whole Qt libraries: the virtual keyboard needs QtQuick and QtQml
#: (~17 MB); the embedded-device platforms need EGLFS; TUIO touch and VNC need QtNetwork.
QT_PLUGIN_DROPS: tuple[str, ...] = (
    "platforminputcontexts/libqtvirtualkeyboardplugin",
    "platforminputcontexts/qtvirtualkeyboardplugin",
    # GTK 3 theme integration: loads the system's GTK, and made PyInstaller bundle cairo, pango,
    # ATK and gdk-pixbuf beside it (mismatched with the system's GTK). Qt's own style is used.
    "platformthemes/libqgtk3",
    "platforms/libqeglfs",  # embedded full-screen platforms, not desktops
    "platforms/libqlinuxfb",
    "platforms/libqvkkhrdisplay",
    "platforms/libqvnc",
    "platforms/libqminimalegl",
    "egldeviceintegrations/",
    "generic/",  # evdev/TUIO input for platforms without a window system
    "networkinformation/",
    "tls/",
    # Image formats tipdesk never reads (PNG is built into QtGui; SVG and ICO stay).
    "imageformats/libqtiff",
    "imageformats/libqwebp",
    "imageformats/libqjpeg",
    "imageformats/libqicns",
    "imageformats/libqtga",
    "imageformats/libqwbmp",
    "imageformats/libqpdf",
    "imageformats/qtiff",
    "imageformats/qwebp",
    "imageformats/qjpeg",
    "imageformats/qicns",
    "imageformats/qtga",
    "imageformats/qwbmp",
    "imageformats/qpdf",
)


def app_languages() -> set[str]:
    """Languages tipdesk has a catalogue for (``resources/translations/tipdesk_<lang>.qm``)."""
    return {p.stem.split("_", 1)[1] for p in (ROOT / "resources" / "translations").glob("tipdesk_*.qm")}


def keep_qt_translation(filename: str, languages: set[str]) -> bool:
    """Qt's own catalogues (``qtbase_de.qm``…) only for languages tipdesk itself speaks."""
    stem = Path(filename).stem
    lang = stem.split("_", 1)[1] if "_" in stem else ""
    return any(lang == l or lang.startswith(l + "_") or l.startswith(lang + "_") for l in languages)


Toc = list[tuple[str, str, str]]  # PyInstaller TOC entries: (destination, source, type)


def _closure(by_name: dict[str, tuple[str, str]], start: set[str],
             imports: Callable[[str], set[str]]) -> set[str]:
    """Names of the collected libraries reachable from ``start`` through their links."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(n.lower() for n in imports(by_name[name][1]))
    return seen


def orphaned_libraries(binaries: Toc, dropped: Toc, imports: Callable[[str], set[str]]) -> set[str]:
    """Destination names of libraries that were collected only because a dropped plugin needed them.

    ``binaries`` are the kept PyInstaller TOC entries (dest, source, type), ``dropped`` the
    removed ones, ``imports(source)`` the library names a binary links against. A library that
    anything kept still needs, directly or through other libraries, is never returned.
    """
    by_name = {Path(dest).name.lower(): (dest, src) for dest, src, _ in binaries}
    from_dropped: set[str] = set()
    for _, src, _ in dropped:
        from_dropped |= _closure(by_name, {n.lower() for n in imports(src)}, imports)
    roots = {name for name in by_name if name not in from_dropped}
    needed = _closure(by_name, roots, imports)
    return {by_name[name][0] for name in from_dropped - needed}


#: Libraries that hooks collect for features we drop (Qt's TLS backend loads OpenSSL at run
#: time; Python's ssl module is excluded). Dropped only when no kept binary links against them.
UNUSED_LIBRARY_PREFIXES: tuple[str, ...] = ("libssl", "libcrypto")


def unneeded_libraries(binaries: Toc, imports: Callable[[str], set[str]]) -> set[str]:
    """Destination names of ``UNUSED_LIBRARY_PREFIXES`` libraries that nothing else links."""
    by_name = {Path(dest).name.lower(): (dest, src) for dest, src, _ in binaries}
    candidates = {n for n in by_name if n.startswith(UNUSED_LIBRARY_PREFIXES)}
    others = set(by_name) - candidates
    needed = _closure(by_name, set().union(*(
        {i.lower() for i in imports(by_name[n][1])} for n in others)) if others else set(), imports)
    return {by_name[n][0] for n in candidates - needed - others}


def existing_data_files(platform: str = sys.platform) -> list[tuple[str, str]]:
    """(source file, destination folder) pairs for PyInstaller, for the files that exist now."""
    pairs: list[tuple[str, str]] = []
    listed = DATA_FILES + (LINUX_DATA_FILES if platform.startswith("linux") else ())
    for folder, pattern, dest in listed:
        for path in sorted((ROOT / folder).glob(pattern)):
            if path.is_file() and path.name != "__init__.py" and "__pycache__" not in path.parts:
                pairs.append((str(path), dest))
    return pairs


def migration_imports() -> set[str]:
    """Every module the Alembic environment and revisions import (they are run from files)."""
    found: set[str] = set()
    migrations = ROOT / "tipdesk" / "vault" / "migrations"
    for path in [migrations / "env.py", *sorted((migrations / "versions").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
    return found


def own_packages() -> list[str]:
    """Our top-level packages that exist in this checkout."""
    return [p for p in PACKAGES if (ROOT / p / "__init__.py").exists()]


def package_data_files() -> list[Path]:
    """Every non-Python file inside our packages (each must be bundled or listed as not needed)."""
    found = []
    for package in own_packages():
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts:
                found.append(path)
    return sorted(found)
