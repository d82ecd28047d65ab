#!/bin/sh
# The data file's CRC-32 is cached in the results folder and reused
# while the file's device, inode, size and time stay the same.  A data
# file written again is still detected as different.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
tmp=$(mktemp -d /tmp/dembench-crc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
plan 4

"$build"/synth --out "$tmp/data.h5" --n 300 --seed 1 >/dev/null
printf '[suite]\ndata = %s\nmethods = noadapt\n' "$tmp/data.h5" \
	> "$tmp/suite.ini"
$dembench run "$tmp/suite.ini" --out "$tmp/out" 2>/dev/null
crc=$(sed -n 's/^data_crc32 = //p' "$tmp/out/settings.txt")
[ -n "$crc" ] && grep -q " $crc\$" "$tmp/out/data-crc32.txt"
ok $? "the cache holds the CRC of settings.txt ($crc)"

# A wrong CRC in the cache is believed while the stamp matches: this
# shows that the second run reads the cache instead of the file.
sed "s/ $crc\$/ 00000000/" "$tmp/out/data-crc32.txt" > "$tmp/cache"
cp "$tmp/cache" "$tmp/out/data-crc32.txt"
$dembench run "$tmp/suite.ini" --out "$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "data_crc32 = 00000000' in the suite" "$tmp/err"
ok $? "a second run takes the CRC from the cache"

# Written again with another seed: new inode and time, so the CRC is
# computed again, differs, and the folder refuses the new file.
"$build"/synth --out "$tmp/data.h5" --n 300 --seed 2 >/dev/null
$dembench run "$tmp/suite.ini" --out "$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "holds runs made with other settings" "$tmp/err" &&
	grep -q "data_crc32 = $crc' in the folder" "$tmp/err"
ok $? "a data file written again is refused by the folder"
grep -q " $crc\$" "$tmp/out/data-crc32.txt"
[ $? -ne 0 ]
ok $? "and the cache now holds the new file's CRC"

finish
