#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with. Needs root (or sudo).
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  catch2 libstb-dev libopenblas-openmp-dev zlib1g-dev nlohmann-json3-dev libcli11-dev
  # multi-rank training (docs/distributed.md); builds without them still work (ENGINE_MPI=AUTO):
  libopenmpi-dev openmpi-bin
  # only to regenerate test fixtures and the PyTorch comparison numbers; never linked:
  python3-torch python3-numpy python3-scipy python3-pil
)
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install_deps: installing ${missing[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install_deps: all packages present"
