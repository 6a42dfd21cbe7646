#!/bin/sh
# Build script.
set -e

usage() {
	echo "usage: $0 [-v] target" >&2
	exit 2
}

# Count the arguments.
if [ $# -lt 1 ]; then
	usage
fi

name=${1#prefix-}   # strip a prefix; '#' after a word is not a comment
len=${#name}
echo "building $name ($len) # not a comment"

case "$1" in
	-v|--verbose) verbose=1 ;;
	*) verbose=0 ;;
esac

cat > out.txt <<EOF2
# a heredoc line starting with '#': cloc and scc count it as a comment
body
EOF2

for f in *.c; do
	[ -f "$f" ] && cc -c "$f" || echo "skip $f"
done
