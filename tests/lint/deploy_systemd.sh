#!/bin/sh
# deploy/systemd/skewd.service: the hardening the VM install promises is in
# the unit, `systemd-analyze verify` accepts it without a warning (ExecStart
# pointed at the built binary and the repository's default config), its
# offline security exposure stays at or under 2.0, the unit `cmake --install`
# writes carries the configured prefix's paths, and the default config's
# data_dir is the unit's StateDirectory. Skips (exit 0) only when
# systemd-analyze is not installed.
bin=${SKEWD_BIN:?SKEWD_BIN is not set}
src=${SKEWD_SOURCE_DIR:?SKEWD_SOURCE_DIR is not set}
unit=$src/deploy/systemd/skewd.service
build=$(dirname "$bin")

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

[ -f "$unit" ] && ok || { bad "no $unit"; finish; }
# has LINE: the unit holds exactly this line.
has() { grep -qxF -- "$1" "$unit" && ok || bad "the unit lacks '$1'"; }
has "DynamicUser=yes"
has "StateDirectory=skewd"
has "StateDirectoryMode=0700"
has "UMask=0077"
has "ProtectSystem=strict"
has "ProtectHome=yes"
has "PrivateTmp=yes"
has "PrivateDevices=yes"
has "NoNewPrivileges=yes"
has "CapabilityBoundingSet="
has "AmbientCapabilities="
has "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"
has "SystemCallFilter=@system-service"
has "SystemCallArchitectures=native"
has "MemoryDenyWriteExecute=yes"
has "RestrictSUIDSGID=yes"
has "ExecStart=/usr/local/bin/skewd serve --config /usr/local/etc/skewd/skewd.yaml"
grep -q '^User=\|^ReadWritePaths=' "$unit" && bad "the unit names a User or ReadWritePaths (DynamicUser + StateDirectory suffice)" || ok

# The default config keeps the database where the unit's state lives.
grep -qx 'data_dir: /var/lib/skewd' "$src/deploy/skewd.yaml" && ok || bad "deploy/skewd.yaml: data_dir is not /var/lib/skewd"

# The installed unit (generated at configure time) uses the configured paths.
gen=$build/deploy/skewd.service
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if [ -f "$gen" ] && [ -n "$prefix" ]; then
	grep -q "^ExecStart=$prefix/bin/skewd serve --config " "$gen" && ok || bad "generated unit: $(grep ExecStart "$gen")"
	cfg=$(sed -n 's/^ExecStart=.* --config //p' "$gen")
	case "$cfg" in
	*/etc/skewd/skewd.yaml) ok ;;
	*) bad "generated unit's config path '$cfg'" ;;
	esac
else
	bad "no generated unit $gen or no CMAKE_INSTALL_PREFIX in $build/CMakeCache.txt"
fi

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze is not installed: skipping verify and security"
	echo "$pass passed, $fail failed, 1 skipped"
	[ "$fail" -eq 0 ]
	exit $?
fi

tmp=$(mktemp -d /tmp/skewd-deploy-systemd-XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
sed "s|/usr/local/bin/skewd|$bin|; s|/usr/local/etc/skewd/skewd.yaml|$src/deploy/skewd.yaml|" "$unit" >"$tmp/skewd.service"
systemd-analyze verify "$tmp/skewd.service" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$tmp/out" ]; then ok; else bad "systemd-analyze verify (exit $rc):"; sed 's/^/  /' "$tmp/out"; fi
# A unit with a mistyped key makes verify speak: the check above can fail.
sed 's/^ProtectHome=yes$/ProtectHomer=yes/' "$tmp/skewd.service" >"$tmp/typo.service"
systemd-analyze verify "$tmp/typo.service" >"$tmp/out" 2>&1
grep -q "ProtectHomer" "$tmp/out" && ok || bad "verify did not report a mistyped key: $(cat "$tmp/out")"

if systemd-analyze security --offline=yes --threshold=20 "$tmp/skewd.service" >"$tmp/out" 2>&1; then ok
else bad "exposure above 2.0: $(grep 'Overall' "$tmp/out")"; fi
grep 'Overall exposure' "$tmp/out"
finish
