"""What the desktop bundle must contain, checked against the source tree without building it.

The frozen bundle itself is built and self-tested by CI (.ci/run); these tests catch the cheap
mistakes early: a data file nobody listed, a migration import the freezer cannot find, an icon
size missing, an installer script that would delete a register.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "installer"))
import contents  # noqa: E402

sys.path.insert(0, str(ROOT / "installer" / "linux"))
import minimal_system_check  # noqa: E402


def bundled_sources() -> set[Path]:
    found = set()
    for platform in ("linux", "win32"):
        found |= {Path(src).resolve() for src, _ in contents.existing_data_files(platform)}
    return found


def test_every_data_file_of_our_packages_is_bundled_or_deliberately_left_out() -> None:
    left_out = {(ROOT / p).resolve() for p in contents.NOT_BUNDLED}
    missing = [str(p.relative_to(ROOT)) for p in contents.package_data_files()
               if p.resolve() not in bundled_sources() and p.resolve() not in left_out]
    assert missing == [], f"add these to installer/contents.py DATA_FILES (or NOT_BUNDLED): {missing}"


def test_the_migrations_travel_as_files_where_alembic_looks_for_them() -> None:
    from tipdesk.vault import migrate

    pairs = {(Path(src).resolve(), dest) for src, dest in contents.existing_data_files("linux")}
    migrations = migrate.MIGRATIONS_DIR
    assert (migrations / "env.py", "tipdesk/vault/migrations") in pairs
    assert (migrations / "script.py.mako", "tipdesk/vault/migrations") in pairs
    revisions = sorted(p for p in (migrations / "versions").glob("*.py") if p.name != "__init__.py")
    assert revisions, "no revision files found"
    for revision in revisions:
        assert (revision.resolve(), "tipdesk/vault/migrations/versions") in pairs


def test_every_module_the_migrations_import_can_be_found_by_the_freezer() -> None:
    modules = contents.migration_imports()
    assert {"alembic", "sqlalchemy"} <= {m.split(".")[0] for m in modules}
    for name in sorted(modules | set(contents.HIDDEN_IMPORTS_STATIC)):
        importlib.import_module(name)


def modules_imported(path: Path) -> set[str]:
    """Every module ``path`` imports, by full name (``PySide6.QtNetwork``, ``ssl``…)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "PySide6":
                found |= {f"PySide6.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def our_modules() -> list[Path]:
    return [p for package in contents.own_packages() for p in (ROOT / package).rglob("*.py")]


def test_modules_left_out_of_the_bundle_are_never_imported_by_our_code() -> None:
    excluded = set(contents.EXCLUDES)
    offenders = []
    for path in our_modules():
        for name in modules_imported(path):
            if name in excluded or name.split(".")[0] in excluded:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == [], f"these modules are excluded from the bundle (installer/contents.py): {offenders}"


def test_hashlib_functions_that_need_openssl_are_not_used() -> None:
    # The bundle leaves out _hashlib (OpenSSL): these exist only with it.
    offenders = [str(p.relative_to(ROOT)) for p in our_modules()
                 if any(word in p.read_text(encoding="utf-8") for word in ("pbkdf2_hmac", "hashlib.scrypt"))]
    assert offenders == []


def test_libraries_only_a_dropped_plugin_needed_are_dropped_too() -> None:
    links = {
        "/q/plugins/vkb.so": {"libQt6VirtualKeyboard.so.6", "libQt6Gui.so.6"},
        "/q/lib/libQt6VirtualKeyboard.so.6": {"libQt6Quick.so.6", "libQt6Gui.so.6"},
        "/q/lib/libQt6Quick.so.6": {"libQt6Gui.so.6", "libQt6OpenGL.so.6"},
        "/q/lib/libQt6OpenGL.so.6": {"libQt6Gui.so.6"},
        "/q/lib/libQt6Gui.so.6": {"libQt6Core.so.6"},
        "/q/lib/libQt6Core.so.6": set(),
        "/q/QtOpenGL.abi3.so": {"libQt6OpenGL.so.6"},
        "/q/QtGui.abi3.so": {"libQt6Gui.so.6"},
    }
    entry = lambda src: (f"PySide6/{Path(src).name}", src, "BINARY")  # noqa: E731
    kept = [entry(s) for s in links if s != "/q/plugins/vkb.so"]
    dropped = [entry("/q/plugins/vkb.so")]
    orphans = contents.orphaned_libraries(kept, dropped, lambda src: links[src])
    # Quick and the virtual keyboard go; OpenGL stays because a kept module links it.
    assert orphans == {"PySide6/libQt6VirtualKeyboard.so.6", "PySide6/libQt6Quick.so.6"}


def test_openssl_is_dropped_only_when_nothing_links_it() -> None:
    entry = lambda src: (Path(src).name, src, "BINARY")  # noqa: E731
    links = {"/l/libssl.so.3": {"libcrypto.so.3"}, "/l/libcrypto.so.3": set(),
             "/l/QtCore.abi3.so": {"libQt6Core.so.6"}, "/l/libQt6Core.so.6": set(),
             "/l/_ssl.so": {"libssl.so.3"}}
    unused = [entry(s) for s in links if s != "/l/_ssl.so"]
    assert contents.unneeded_libraries(unused, lambda src: links[src]) == {"libssl.so.3", "libcrypto.so.3"}
    linked = [entry(s) for s in links]
    assert contents.unneeded_libraries(linked, lambda src: links[src]) == set()


@pytest.mark.parametrize(("filename", "languages", "kept"), [
    ("qtbase_de.qm", {"de"}, True),
    ("qtbase_de.qm", {"es"}, False),
    ("qt_pt_BR.qm", {"pt"}, True),
    ("qtbase_fr.qm", set(), False),
])
def test_qt_catalogues_are_kept_only_for_languages_tipdesk_speaks(filename: str, languages: set[str], kept: bool) -> None:
    assert contents.keep_qt_translation(filename, languages) is kept


def test_the_icon_exists_at_every_size_and_in_the_windows_icon() -> None:
    from PySide6.QtGui import QImage

    import resources

    for size, path in zip(resources.ICON_SIZES, resources.icon_files(), strict=True):
        image = QImage(str(path))
        assert (image.width(), image.height()) == (size, size), path.name
        assert image.hasAlphaChannel()
        assert image.pixelColor(size // 2, size // 2).alpha() == 255  # the tile is opaque
        assert image.pixelColor(0, 0).alpha() == 0  # rounded corner: transparent
    data = (ROOT / "resources" / "icons" / "tipdesk.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1)
    sizes = {struct.unpack_from("<B", data, 6 + 16 * i)[0] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes


def test_the_desktop_entry_opens_registers_by_their_mime_type() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive
    entry.read(ROOT / "resources" / "tipdesk.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    mime = (ROOT / "resources" / "tipdesk-mime.xml").read_text(encoding="utf-8")
    assert 'type="application/x-tipdesk-register"' in mime and '<glob pattern="*.tipdb"/>' in mime
    assert "application/x-tipdesk-register" in desktop["MimeType"].split(";")
    assert desktop["Exec"].startswith("tipdesk ") and "%f" in desktop["Exec"]
    assert desktop["Icon"] == "tipdesk"


def test_the_readme_lists_the_system_packages_the_bundle_needs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Installing", 1)[1].split("\n## ", 1)[0]
    for package in minimal_system_check.REQUIRED_PACKAGES + minimal_system_check.WINDOW_PACKAGES:
        assert package in section, package


def iss_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for line in (ROOT / "installer" / "windows" / "tipdesk.iss").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections.setdefault(current, [])
        elif line and not line.startswith(";") and current:
            sections[current].append(line)
    return sections


def test_the_windows_installer_is_per_user_and_never_deletes_registers() -> None:
    sections = iss_sections()
    setup = "\n".join(sections["Setup"])
    assert "PrivilegesRequired=lowest" in setup
    assert "PrivilegesRequiredOverridesAllowed=dialog" in setup
    assert "AppVersion={#AppVersion}" in setup
    # Upgrades start from an empty program folder, so no file of an old version lingers.
    assert any("{app}" in line and "filesandordirs" in line for line in sections["InstallDelete"])
    # Uninstalling removes only what setup installed: no UninstallDelete of any data.
    for line in sections.get("UninstallDelete", []):
        assert "{app}" in line and "tipdb" not in line and "keys" not in line
        assert not any(word in line for word in ("{userdocs}", "{localappdata}", "{userappdata}", "*"))
    assert any(".tipdb" in line for line in sections["Registry"])
