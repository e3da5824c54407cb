#!/bin/sh
# Add tipdesk to this user's application menu and open *.tipdb registers with it.
# Run from the unpacked bundle:  ./install-desktop-entry.sh        (undo: --remove)
# Needs no administrator rights: everything goes under ~/.local/share.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
res="$here/_internal/resources"

if [ "${1:-}" = "--remove" ]; then
    done_what=removed
    rm -f "$data/applications/tipdesk.desktop" "$data/mime/packages/tipdesk-mime.xml"
    for size in 16 24 32 48 64 128 256 512; do
        rm -f "$data/icons/hicolor/${size}x${size}/apps/tipdesk.png"
    done
else
    done_what=installed
    mkdir -p "$data/applications" "$data/mime/packages"
    for size in 16 24 32 48 64 128 256 512; do
        mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
        cp "$res/icons/tipdesk-$size.png" "$data/icons/hicolor/${size}x${size}/apps/tipdesk.png"
    done
    cp "$res/tipdesk-mime.xml" "$data/mime/packages/tipdesk-mime.xml"
    # The menu entry starts this copy of tipdesk, wherever the bundle was unpacked.
    sed "s|^Exec=tipdesk |Exec=\"$here/tipdesk\" |" "$res/tipdesk.desktop" > "$data/applications/tipdesk.desktop"
fi
command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "tipdesk: desktop entry $done_what for $(id -un) (in $data)"
