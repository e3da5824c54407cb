"""``tipdesk screenshots`` renders every main view into PNG files."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_screenshots_render_every_main_view(qtbot, tmp_path, monkeypatch) -> None:
    from ui.screenshots import take

    monkeypatch.setenv("TIPDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    files = take(tmp_path / "shots", cases=40)
    names = {p.stem for p in files}
    for expected in ("login", "login-wrong-password", "wizard-recovery-key", "admin-users", "locked",
                     "case-list", "case-editor-person", "case-editor-identification", "case-editor-history",
                     "case-new-duplicate-warning", "case-new-validation", "admin-backups", "backup-done",
                     "backup-folder-missing", "shelter-board", "followup-queues", "dashboard", "dashboard-all-charts",
                     "case-editor-shelter", "case-editor-services", "case-editor-followup", "admin-follow-up-plans",
                     "admin-facilities", "admin-keys", "case-status-close", "case-editor-statuses", "returns",
                     "returns-saved-and-checked", "returns-check-changed-file"):
        assert expected in names
    for path in files:
        image = QImage(str(path))
        assert image.width() >= 300 and image.height() >= 200
        # not a blank picture: more than a handful of distinct colours along the middle line
        colours = {image.pixel(x, image.height() // 2) for x in range(0, image.width(), 3)}
        colours |= {image.pixel(image.width() // 2, y) for y in range(0, image.height(), 3)}
        assert len(colours) > 3, path.name
