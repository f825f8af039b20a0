#!/usr/bin/env bash
# Installs what the aarch64 stage of tools/test.sh needs: Debian's cross compiler, arm64 libraries
# through multiarch, and qemu-user-static to run the results. CI runs it; tools/test.sh runs that
# stage wherever these are present. Needs root (or sudo). The programs run under qemu with the
# arm64 loader, libc and libstdc++ of Debian's multiarch packages (`qemu-aarch64-static -L /`): the
# cross toolchain's own loader (/usr/aarch64-linux-gnu) is an older build than the multiarch libc
# that the arm64 OpenBLAS pulls in, and that mix hung the first pthread_create (a stack-cache list
# read at the wrong offset of the loader's private struct).
set -euo pipefail
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
packages=(g++-aarch64-linux-gnu qemu-user-static
          libopenblas-openmp-dev:arm64 libstb-dev:arm64 zlib1g-dev:arm64 libstdc++6:arm64)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_cross_deps: installing ${missing[*]}"
  dpkg --print-foreign-architectures | grep -qx arm64 || sudo_if_needed dpkg --add-architecture arm64
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install_cross_deps: all packages present"
