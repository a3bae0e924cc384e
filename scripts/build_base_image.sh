#!/usr/bin/env bash
# The Debian base every image of the project starts FROM, built from Debian's packages with
# debootstrap and `docker import`, for machines that reach Debian's mirror but no container
# registry (no `FROM debian:...` pull). Idempotent: an existing image is kept (--force rebuilds).
#
#   scripts/build_base_image.sh [--force]      # needs root, debootstrap and a Docker engine
#
# Environment: BASE_IMAGE (ai-tutor/debian:bookworm), DEBIAN_MIRROR (http://deb.debian.org/debian),
# DEBIAN_SUITE (bookworm).
set -euo pipefail

BASE_IMAGE=${BASE_IMAGE:-ai-tutor/debian:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${DEBIAN_SUITE:-bookworm}

if [[ ${1:-} != --force ]] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "base image $BASE_IMAGE exists (--force rebuilds it)"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "needs debootstrap: apt-get install debootstrap" >&2; exit 1; }

ROOT=$(mktemp -d /tmp/ai-tutor-rootfs.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT

# minbase: dpkg, apt and the Essential set only (no systemd, no init).
debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$ROOT" "$MIRROR"

# What the official debian images do to stay small: no docs, man pages or other locales
# installed by later apt-get runs, no recommends, no apt caches left in layers.
cat > "$ROOT/etc/dpkg/dpkg.cfg.d/docker-minimal" <<'EOF'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
EOF
cat > "$ROOT/etc/apt/apt.conf.d/docker-minimal" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
# Security and point-release updates, so `apt-get install` in the images gets fixed packages.
cat > "$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} $SUITE-security main
EOF
chroot "$ROOT" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq'
find "$ROOT/usr/share/doc" -type f ! -name copyright -delete
rm -rf "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/* "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/var/cache/apt/* "$ROOT"/var/log/* "$ROOT"/tmp/*
: > "$ROOT/etc/machine-id"

tar --numeric-owner -C "$ROOT" -c . \
  | docker import \
      --change 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --message "debootstrap --variant=minbase $SUITE $MIRROR" \
      - "$BASE_IMAGE"
docker image ls "$BASE_IMAGE"
