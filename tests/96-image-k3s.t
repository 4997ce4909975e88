#!/bin/sh
# make image with K3S_BINARY: the pinned sha256 is checked before anything is built or
# replaced; a mismatch or a missing hash is refused.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1

fake=$(mktemp)
cleanup_dirs="$cleanup_dirs $fake"
printf '#!/bin/sh\necho "k3s version v1.31.0+k3s1 (test stand-in)"\n' > "$fake"
before=$(stat -c %Y build/image/pxe/initrd 2>/dev/null || echo none)
out=$(K3S_BINARY=$fake K3S_SHA256=0000000000000000000000000000000000000000000000000000000000000000 \
	sh images/build.sh 2>&1)
is "$?" 1 "a K3s binary whose sha256 differs from the pinned one is refused"
like "$out" "has sha256 $(sha256sum "$fake" | cut -d' ' -f1), not the pinned 0000.*refusing it" \
	"the refusal names both hashes"
out=$(K3S_BINARY=$fake sh images/build.sh 2>&1)
is "$?" 1 "a K3s binary without K3S_SHA256 is refused"
like "$out" 'K3S_BINARY needs K3S_SHA256' "and the message says what is missing"
is "$(stat -c %Y build/image/pxe/initrd 2>/dev/null || echo none)" "$before" "the existing image was not touched"
done_testing
