#!/usr/bin/env bash
# The wire protocol the agent links (vqi::fleet_protocol) pulls in nothing server-side: checks
# a binary built from it alone (fleet_protocol_test) with ldd and nm.
#   protocol_link_test.sh BINARY
set -euo pipefail
bin=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
libs=$(ldd "$bin")
for bad in libsqlite3 libtorch libc10 libopencv libsodium libzip libyaml-cpp libhttplib; do
  if grep -F "$bad" <<<"$libs"; then fail "$bin links $bad"; fi
done
syms=$(nm -C "$bin")
for bad in 'vqi::sqlite::' 'vqi::component::' 'vqi::signing::' 'vqi::server::' 'vqi::registry::' 'vqi::fleet::FleetStore' 'vqi::fleet::RolloutPlanner'; do
  if grep -F "$bad" <<<"$syms" | head -3 | grep -q .; then fail "$bin holds symbols of $bad"; fi
done
grep -qF 'vqi::fleet::ParseDesiredState' <<<"$syms" || fail "no ParseDesiredState in $bin"
echo "OK: $(wc -l <<<"$libs") shared libraries, none server-side"
