#!/bin/sh
# Install (or remove) the Vitalsight folder this script sits in.
#
#   ./install.sh              for this user: ~/.local/lib/vitalsight, ~/.local/bin/vitalsight, menu entry
#   sudo ./install.sh --system for everyone: /opt/vitalsight, /usr/local/bin/vitalsight, menu entry
#   ./install.sh --uninstall [--system]
#
# The user's workspaces and imported models live in ~/.local/share/vitalsight and are never touched here.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
scope=user
action=install
for arg in "$@"; do
    case "$arg" in
        --system) scope=system ;;
        --uninstall) action=uninstall ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown option: $arg" >&2; exit 2 ;;
    esac
done

if [ "$scope" = system ]; then
    prefix=/opt/vitalsight
    bindir=/usr/local/bin
    share=/usr/share
else
    prefix="$HOME/.local/lib/vitalsight"
    bindir="$HOME/.local/bin"
    share="${XDG_DATA_HOME:-$HOME/.local/share}"
fi
apps="$share/applications"
icons="$share/icons/hicolor"

refresh_menus() {
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$apps" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$icons" || true
}

if [ "$action" = uninstall ]; then
    rm -rf "$prefix"
    rm -f "$bindir/vitalsight" "$apps/vitalsight.desktop" \
          "$icons/256x256/apps/vitalsight.png" "$icons/48x48/apps/vitalsight.png" "$icons/scalable/apps/vitalsight.svg"
    refresh_menus
    echo "Vitalsight removed ($scope). Your data in ~/.local/share/vitalsight was kept."
    exit 0
fi

if [ ! -x "$here/vitalsight" ] || [ ! -d "$here/_internal" ]; then
    echo "run install.sh from inside the Vitalsight folder (it needs ./vitalsight and ./_internal)" >&2
    exit 2
fi
if [ "$here" != "$prefix" ]; then
    # Copy to a new folder and swap it in, so a failed copy never leaves half an installation.
    mkdir -p "$(dirname "$prefix")"
    rm -rf "$prefix.new"
    cp -a "$here" "$prefix.new"
    rm -rf "$prefix"
    mv "$prefix.new" "$prefix"
fi
mkdir -p "$bindir" "$apps" "$icons/256x256/apps" "$icons/48x48/apps" "$icons/scalable/apps"
ln -sf "$prefix/vitalsight" "$bindir/vitalsight"
res="$prefix/_internal/resources/icons"
cp "$res/vitalsight.png" "$icons/256x256/apps/vitalsight.png"
cp "$res/vitalsight-48.png" "$icons/48x48/apps/vitalsight.png"
cp "$res/vitalsight.svg" "$icons/scalable/apps/vitalsight.svg"
sed -e "s|^TryExec=.*|TryExec=$prefix/vitalsight|" -e "s|^Exec=.*|Exec=$prefix/vitalsight gui|" \
    "$prefix/vitalsight.desktop" > "$apps/vitalsight.desktop"
chmod 644 "$apps/vitalsight.desktop"
refresh_menus
echo "Vitalsight installed in $prefix ($scope); start it from the menu or run: vitalsight"
case ":$PATH:" in *":$bindir:"*) ;; *) echo "note: $bindir is not on your PATH" ;; esac
