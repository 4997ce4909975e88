#!/bin/sh
# Every program that the Makefile, images/ and tests/ scripts run comes from a package that
# tests/install-deps.sh installs (or an Essential one); programs of the scripts that run
# inside the image come from mkosi.conf's packages (tests/tools/check-deps.pl). A fresh
# Debian 12 machine has nothing else: a kmod that happened to be installed here once hid
# a missing install step.
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1
# the PATH of a fresh Debian root shell: nothing from /usr/local, no user tool managers
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

out=$(perl tests/tools/check-deps.pl 2>&1)
ok $? "every program the scripts run comes from a package the project installs"
printf '%s\n' "$out" | grep -v '^check-deps:' | sed 's/^/# /'
like "$out" '^check-deps: [0-9]{3} programs, 0 not provided' "the scan found the scripts' programs"

out=$(perl tests/tools/check-deps.pl --verbose 2>&1)
like "$out" '^ok depmod \(.*, kmod\)$' "depmod (images/mkosi.finalize) is traced to kmod"
like "$out" '^ok qemu-system-x86_64 \(.*, qemu-system-x86\)$' "QEMU is traced to its package"
like "$out" '^ok systemd-analyze \((.*, systemd|/usr/bin/systemd-analyze in the image)\)$' \
	"a program of the image's selftest is in the image (or traced to its packages before it is built)"

# take kmod out of the install list: the check must fail, naming depmod and the package
t=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $t"
sed 's/\bkmod\b//g' tests/install-deps.sh >"$t/install-deps.sh"
out=$(perl tests/tools/check-deps.pl --install-deps "$t/install-deps.sh" 2>&1)
is "$?" 1 "without kmod in the install list the check fails"
like "$out" '^MISSING depmod \(.*\) comes from kmod, which .* does not install' \
	"... and names depmod, its package and the script that runs it"

# a new script calling a program that no package provides fails too
mkdir -p "$t/tree/tests" "$t/tree/images"
cp -a Makefile mkosi.conf "$t/tree/"
cp tests/install-deps.sh "$t/tree/tests/"
printf '#!/bin/sh\nif na-no-such-program --flag; then echo "$(cat /dev/null)"; fi\n' >"$t/tree/tests/99-new.t"
out=$(cd "$t/tree" && perl "$OLDPWD/tests/tools/check-deps.pl" 2>&1)
is "$?" 1 "a new test calling an unprovided program fails the check"
like "$out" '^MISSING na-no-such-program: not found on this machine \(run by tests/99-new.t\)' \
	"... naming the program and the script"
# words that are data, not commands, are not taken for programs
printf '#!/bin/sh\n# na-comment-word\necho "na-quoted; na-also" | sed '"'"'s/x/na-sed;y/'"'"'\ncase $x in\nna-pattern) : ;;\nesac\ncat <<EOF\nna-heredoc\nEOF\n' \
	>"$t/tree/tests/99-new.t"
out=$(cd "$t/tree" && perl "$OLDPWD/tests/tools/check-deps.pl" 2>&1)
ok $? "comments, quoted text, case patterns and here-documents are not programs"
printf '%s\n' "$out" | grep MISSING | sed 's/^/# /'
done_testing
