# Format=disk at every size (issue 19): disks of 128M to 64G
# (sparse files: nothing here writes gigabytes), each checked by the tools
# that own the formats (sfdisk, fsck.fat and mtools on the ESP by its
# offset, e2fsck and dumpe2fs on the root by its offset, sbverify on the
# UKI), and the ESP byte for byte the same whatever the disk's size.
# mkfs.fat used to size the FAT from the whole file: over 260 MiB it made
# a FAT32 with too few clusters, which mtools reads as FAT16 ("mmd failed:
# No directory slots").  disk.sh has the rest of Format=disk.
source "$SRCDIR/tests/integration/lib.sh"
source "$SRCDIR/tests/integration/data/compose-pkgs.sh"
cd "$T"
KERNEL=$BUILDDIR/kernel/vmlinuz
[ -f "$KERNEL" ] || IMGTOOL_BUILD=$BUILDDIR "$SRCDIR/build.sh" kernel >/dev/null
export SOURCE_DATE_EPOCH=1704067200 MTOOLS_SKIP_CHECK=1
SECTORS_MIB=2048

make_test_packages rpms
"$IMGTOOL" keygen --out ima >/dev/null
"$IMGTOOL" keygen --secure-boot sb >/dev/null

layout() {  # layout NAME SIZE [KERNEL]
  cat > "$1.conf" <<L
[Image]
Format=disk
Seed=disk-sizes
Size=$2
[Packages]
Directory=rpms
Install=tbase tapp
[Signatures]
Mode=sign
Key=ima/signing.key
Certificate=ima/signing.crt
[Boot]
Kernel=${3:-$KERNEL}
[SecureBoot]
Key=sb/db.key
Certificate=sb/db.crt
L
}

# partition DISK N: "START SIZE" in sectors, as sfdisk reads the GPT
partition() { sfdisk -d "$1" | sed -n "s/^$1$2 : start= *\([0-9]*\), size= *\([0-9]*\),.*/\1 \2/p"; }

# check_disk NAME BYTES ESP_MIB: compose NAME.conf, check the disk, keep its
# ESP as NAME.esp and its GPT (sfdisk -d, size-dependent fields dropped) as
# NAME.gpt
check_disk() {
  local n=$1 bytes=$2 esp_mib=$3 start size rstart rsize fsck blocks bsize
  check "$n: compose Format=disk" "$IMGTOOL" compose "$n.conf" -o "$n.disk" -q || return 0
  expect_eq "$n: the disk's size" "$(stat -c %s "$n.disk")" "$bytes"
  local used=$(($(stat -c '%b * %B' "$n.disk")))
  check "$n: sparse ($((used >> 20)) MiB allocated of $((bytes >> 20)) MiB)" test "$used" -lt $(((esp_mib + 40) << 20))
  check "$n: sfdisk -V: the GPT is clean" sfdisk -V -q "$n.disk"
  read -r start size < <(partition "$n.disk" 1)
  read -r rstart rsize < <(partition "$n.disk" 2)
  expect_eq "$n: ESP at 1 MiB, $esp_mib MiB" "$start $size" "$SECTORS_MIB $((esp_mib * SECTORS_MIB))"
  expect_eq "$n: the root partition fills the rest (1 MiB for the backup GPT)" "$rstart $rsize" \
    "$(((1 + esp_mib) * SECTORS_MIB)) $((bytes / 512 - (1 + esp_mib) * SECTORS_MIB - SECTORS_MIB))"
  sfdisk -d "$n.disk" | grep -v '^last-lba:' | sed "s/^$n.disk/DISK/; s/^device: .*//; /^DISK2 /s/size= *[0-9]*,//" > "$n.gpt"

  # The ESP, by its offset: fsck.fat (4.2 has no --offset: the partition's
  # sectors copied out) without even a warning, and mtools reading it whole.
  dd if="$n.disk" of="$n.esp" bs=512 skip="$start" count="$size" status=none
  fsck=$(fsck.fat -n "$n.esp" 2>&1) && pass "$n: fsck.fat -n on the ESP" || fail "$n: fsck.fat -n: $fsck"
  if grep -qi warn <<<"$fsck"; then fail "$n: fsck.fat warns: $fsck"
  else pass "$n: fsck.fat has no warning (a FAT32 with too few clusters is one)"; fi
  check "$n: mtools reads \\EFI\\BOOT\\BOOTX64.EFI at the ESP's offset" \
    mcopy -n -i "$n.disk@@$((start * 512))" ::/EFI/BOOT/BOOTX64.EFI "$n.efi"
  check "$n: sbverify: the UKI is signed by the db key" sbverify --cert sb/db.crt "$n.efi"

  # The root, by its offset (libext2fs's ?offset=): e2fsck, and the
  # filesystem exactly as large as its partition.
  check "$n: e2fsck -fn on the root partition" e2fsck -fn "$n.disk?offset=$((rstart * 512))"
  read -r blocks bsize < <(dumpe2fs -h "$n.disk?offset=$((rstart * 512))" 2>/dev/null |
    awk -F: '/^Block count/ { c = $2 } /^Block size/ { s = $2 } END { print c + 0, s + 0 }')
  expect_eq "$n: the root filesystem fills its partition" "$((blocks * bsize))" "$((rsize * 512))"
  rm -f "$n.disk"
}

SIZES="128M 261M 400M 1G 4G 64G"   # 261M: the first size that failed
for s in $SIZES; do
  layout "d$s" "$s"
  check_disk "d$s" "$(numfmt --from=iec "$s")" 64
done
for s in $SIZES; do
  check "$s: the ESP is the 128M disk's, byte for byte" cmp "d128M.esp" "d$s.esp"
  check "$s: the GPT differs from the 128M disk's only in its size (last LBA, root partition's size)" \
    cmp "d128M.gpt" "d$s.gpt"
done

# A UKI over 128 MiB makes an ESP over 260 MiB, where FAT32 takes 4 KiB
# clusters: the same at any disk size too.
cp "$KERNEL" big.vmlinuz
truncate -s 140M big.vmlinuz
for s in 1G 64G; do
  layout "big$s" "$s" big.vmlinuz
  check_disk "big$s" "$(numfmt --from=iec "$s")" 285
done
# 285 MiB follows from the rule, checked here against the UKI on the ESP:
# twice the UKI plus 4 MiB, rounded up to whole MiB (the UKI's size is
# bounded before it is built: its os-release and alignment, under 1 MiB).
mcopy -i big1G.esp ::/EFI/BOOT/BOOTX64.EFI big.uki
uki=$(stat -c %s big.uki) esp=$(stat -c %s big1G.esp)
check "ESP of 285 MiB: twice the UKI ($((uki >> 10)) KiB) plus 4 MiB, in whole MiB" \
  test "$esp" -ge $((2 * uki + (4 << 20))) -a "$esp" -le $((2 * uki + (6 << 20)))
check "ESP of 285 MiB: 8 sectors a cluster" sh -c "minfo -i big1G.esp | grep -qx 'cluster size: 8 sectors'"
check "ESP of 285 MiB: the same at 1G and 64G" cmp big1G.esp big64G.esp
finish
