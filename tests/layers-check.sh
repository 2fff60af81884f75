#!/bin/sh
# layers-check.sh - the engine's pure layer stays pure: no file of
# engine/core includes a header of the event loop's libraries (libevent,
# c-ares, libpcap) or of the engine's loop layer (engine/loop/*.h). The
# collector-only code (validate, asndb) lives in collector/, not engine/.
set -u
cd "$(dirname "$0")/.." || exit 1
loop=
for h in engine/loop/*.h; do
	loop="$loop${loop:+|}$(basename "$h" | sed 's/\./\\./g')"
done
bad=$(grep -nE "#include (<(event2/|ares|pcap[./])|\"($loop)\")" \
	engine/core/*.[ch])
if [ -n "$bad" ]; then
	echo "layers-check: engine/core includes the loop layer:" >&2
	echo "$bad" >&2
	exit 1
fi
echo "layers-check: engine/core ($(ls engine/core/*.c | wc -l) files) includes nothing of the loop"
