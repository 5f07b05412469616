# Sourced by test.sh: install the Debian packages the app and the tests need, if missing.
# A developer's machine keeps what was installed by hand; CI's fresh machine does not, so
# every system package the app needs is named here (README: "Desktop app on Linux").
need=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libpulse0
      libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-image0 libxcb-render-util0
      libxcb-shape0 libxcb-randr0 libxcb-xkb1 fonts-noto-cjk)
missing=()
for p in "${need[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing system packages: ${missing[*]}"
        apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
            || (apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null)
    else
        echo "warning: missing system packages (install them with apt): ${missing[*]}" >&2
    fi
fi
