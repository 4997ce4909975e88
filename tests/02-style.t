#!/bin/sh
# House style that a machine can check (../shared/STYLE.md): the sources as .clang-format
# writes them, no banned C functions, no block of more than 10 lines repeated in hw/ and
# node-agent/ (tests/tools/dup-blocks.pl).
. "$(dirname "$0")/lib.sh"
cd "$TESTS_DIR/.." || exit 1
srcs=$(ls hw/*.c hw/*.h node-agent/*.c node-agent/*/*.c node-agent/*/*.h)

bad=""
for f in $srcs; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
[ -z "$bad" ]
ok $? "every source is formatted as .clang-format says (make format fixes it)"
[ -n "$bad" ] && diag "not formatted:$bad"

# curl's and STYLE.md's list: unbounded copies and formats, numbers without error checks,
# hidden static state
banned='atoi|atol|atoll|sprintf|vsprintf|strcpy|strcat|gets|strtok|tmpnam|mktemp'
hits=$(grep -nE "(^|[^_[:alnum:]])($banned)[[:space:]]*\(" $srcs | grep -v '^[^:]*:[0-9]*:[[:space:]]*/\?\*')
[ -z "$hits" ]
ok $? "no banned function ($banned) in hw/ and node-agent/"
[ -n "$hits" ] && printf '%s\n' "$hits" | sed 's/^/# /'

# the check finds what it is meant to find
t=$(mktemp -d)
cleanup_dirs="$cleanup_dirs $t"
printf 'int f(const char *s)\n{\n\treturn atoi(s);\n}\n' >"$t/bad.c"
grep -qE "(^|[^_[:alnum:]])($banned)[[:space:]]*\(" "$t/bad.c"
ok $? "the banned-function check sees atoi()"

out=$(perl tests/tools/dup-blocks.pl $srcs)
ok $? "no block of more than 10 significant lines repeated in hw/ and node-agent/"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'

# and it sees a copy, also one with other names
a="$t/a.c"
b="$t/b.c"
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do printf 'x%d = f(y, %d);\nif (x%d < 0)\n\treturn g(x%d);\n' $i $i $i $i; done >"$a"
sed 's/x/z/g; s/f(/h(/' "$a" >"$b"
perl tests/tools/dup-blocks.pl "$a" "$b" >/dev/null
[ $? -eq 1 ]
ok $? "dup-blocks finds a block repeated with other names"
done_testing
