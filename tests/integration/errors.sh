# Every command fails in several ways, and each failure's one line belongs
# to its error: it names the file it is about and says that error's cause
# (util.h: a message is recorded with its code; a command prints the message
# of the code it got, never one left from another error).  Exit 2 each time.
source "$SRCDIR/tests/integration/lib.sh"

cd "$T"
mkdir dir
{ printf 'x\0'; head -c 5000 /dev/urandom; } > junk   # no format at all (a NUL on line 1)
printf 'hello\n' > text                   # text, not any format
"$IMGTOOL" keygen --out key >/dev/null

# fails DESC PATTERN CMD...: exit 2 (could not do the job), one line matching
fails() {
  local d=$1 pat=$2 rc=0; shift 2
  expect_fail "$d" "$pat" "$IMGTOOL" "$@"
  "$IMGTOOL" "$@" >/dev/null 2>&1 || rc=$?
  expect_eq "$d: exit code" "$rc" 2
}

ENOENT='No such file or directory'

fails "compose: missing layout" "^imgtool: missing\.conf: $ENOENT$" compose missing.conf -o out.img
fails "compose: a folder" "^imgtool: dir: is a folder, not a file$" compose dir -o out.img
fails "compose: binary layout" "^imgtool: junk:1: contains a NUL byte" compose junk -o out.img
fails "compose: not INI" "^imgtool: text:1: not a valid INI line$" compose text -o out.img

fails "verify: missing image" "^imgtool: missing\.img: $ENOENT$" verify --cert key/signing.crt missing.img
fails "verify: not ext4" "^imgtool: junk: not an ext4 image" verify --cert key/signing.crt junk
fails "verify: a folder" "^imgtool: dir: is a directory, not an image$" verify --cert key/signing.crt dir
fails "verify: missing cert" "missing\.crt: $ENOENT" verify --cert missing.crt junk

fails "summary: missing layout" "^imgtool: missing\.conf: $ENOENT$" summary missing.conf
fails "summary: binary layout" "^imgtool: junk:1: contains a NUL byte" summary junk
fails "summary: not INI" "^imgtool: text:1: not a valid INI line$" summary text

fails "policy: missing extra rules" "^imgtool: missing\.txt: $ENOENT$" policy --extra missing.txt
fails "policy: binary extra rules" "^imgtool: junk: contains a NUL byte" policy --extra junk

fails "ipe-policy: missing layout" "^imgtool: missing\.conf: $ENOENT$" ipe-policy missing.conf
fails "ipe-policy: binary layout" "^imgtool: junk:1: contains a NUL byte" ipe-policy junk

fails "kconfig: missing CA" "^imgtool: missing\.crt: $ENOENT$" kconfig --ca missing.crt
fails "kconfig: not a certificate" "^imgtool: junk: not a DER or PEM X\.509 certificate" kconfig --ca junk

fails "keygen: unknown type" "^imgtool: unknown key type 'nope'" keygen --out new --type nope
fails "keygen: out is a file" "^imgtool: text/signing\.key: Not a directory$" keygen --out text
fails "keygen: bad days" "^imgtool: --days: 'abc' is not a number of days" keygen --out new --days abc
fails "keygen: missing public key" "^imgtool: missing\.pub: $ENOENT$" keygen --out new --issuer key --for-key missing.pub

fails "sign-rpm: missing key" "missing\.key: $ENOENT" sign-rpm --key missing.key --cert key/signing.crt -o signed.rpm junk
fails "sign-rpm: output a folder" "^imgtool: dir: exists and is a folder" sign-rpm --key key/signing.key --cert key/signing.crt -o dir junk
fails "sign-rpm: not an RPM" "^imgtool: junk: not an RPM package$" sign-rpm --key key/signing.key --cert key/signing.crt -o signed.rpm junk

fails "inspect: missing package" "^imgtool: missing\.rpm: cannot open: $ENOENT$" inspect missing.rpm
fails "inspect: not an RPM" "^imgtool: junk: not an RPM package$" inspect junk
fails "inspect: a folder" "^imgtool: dir: .*Is a directory" inspect dir

for c in ls manifest; do
  fails "$c: missing image" "^imgtool: missing\.img: $ENOENT$" $c missing.img
  fails "$c: not ext4" "^imgtool: junk: not an ext4 image" $c junk
  fails "$c: a folder" "^imgtool: dir: is a directory, not an image$" $c dir
done
fails "extract: missing image" "^imgtool: missing\.img: $ENOENT$" extract missing.img /x -o o
fails "extract: not ext4" "^imgtool: junk: not an ext4 image" extract junk /x -o o

fails "ima-log: missing log" "^imgtool: missing\.log: $ENOENT$" ima-log missing.log
fails "ima-log: not a log" "^imgtool: junk: entry 1: " ima-log junk
fails "ima-log: missing manifest" "^imgtool: missing\.txt: $ENOENT$" ima-log --manifest missing.txt junk

fails "reference: missing image" "^imgtool: missing\.img: $ENOENT$" reference missing.img -o r.json --key key/signing.key --cert key/signing.crt
fails "reference: not ext4" "^imgtool: junk: not an ext4 image" reference junk -o r.json --key key/signing.key --cert key/signing.crt
fails "keylime-policy: missing image" "^imgtool: missing\.img: $ENOENT$" keylime-policy missing.img -o k.json
fails "keylime-policy: not ext4" "^imgtool: junk: not an ext4 image" keylime-policy junk -o k.json

mkdir -p state
fails "attest: missing reference" "^imgtool: missing\.json: $ENOENT$" attest --evidence dir --state state --reference missing.json --cert key/signing.crt --ek-ca key/signing.crt
fails "attest: no state folder" "^imgtool: attest: --evidence DIR, --state STATE and --ek-ca CA are required" attest --evidence dir --reference missing.json --cert key/signing.crt --ek-ca key/signing.crt
fails "pcrs: missing disk" "^imgtool: missing\.img: $ENOENT$" pcrs missing.img
fails "pcrs: not a disk" "^imgtool: junk: not a GPT disk image$" pcrs junk

fails "initramfs: missing certificate" "missing\.crt: $ENOENT" initramfs -o i.img --root LABEL=root --cert missing.crt
fails "initramfs: bad root" "^imgtool: root 'LABEL=': an ext4 label has 1 to 16 characters$" initramfs -o i.img --root LABEL= --cert key/signing.der

fails "init-layout: folder under a file" "^imgtool: text/x: cannot create: Not a directory$" init-layout text/x
fails "init-layout: missing packages folder" "^imgtool: missing: $ENOENT$" init-layout --from-rpms missing new

# Nothing was written by any of them.
check "no output left behind" test -z "$(ls -A | grep -vxE 'dir|junk|text|key|state')"
finish
