# qemu-test/attest-lib.sh: the --attest round trip, shared by run (direct
# boots) and run-uefi (disks through OVMF).  Sourced; the caller defines
#   $tmp, $evidence, $quote_tpm, $attest_guest, $exec_cmd, $reference, $ref_cert
#   (the verifier's state goes to EVIDENCE.state, beside the evidence: the
#   guest's answers go only into EVIDENCE)
#   start_tpm DIR     a swtpm on the state in DIR (stopping the previous one)
#   boot_exec SCRIPT  boot once running SCRIPT; the guest's output (and only
#                     it) in $tmp/out.log; returns the script's status
# and gets make_tpm and do_attest, which exits with imgtool attest's status.

# make_tpm DIR: a manufactured TPM as a machine ships: EK and EK certificate
# (NV 0x01c00002) from the local CA in $tmp/ca, shared by every TPM made here.
make_tpm() {
  mkdir -p "$1" "$tmp/ca"
  if [ ! -f "$tmp/ca/localca.conf" ]; then
    printf 'statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\ncertserial = %s/certserial\n' \
      "$tmp/ca" "$tmp/ca" "$tmp/ca" "$tmp/ca" > "$tmp/ca/localca.conf"
    printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = /etc/swtpm-localca.options\nactive_pcr_banks = sha256\n' \
      "$tmp/ca/localca.conf" > "$tmp/ca/setup.conf"
  fi
  swtpm_setup --tpm2 --tpmstate "$1" --create-ek-cert --config "$tmp/ca/setup.conf" --overwrite \
    > "$tmp/swtpm_setup.log" 2>&1 || { cat "$tmp/swtpm_setup.log" >&2; echo "run: swtpm_setup failed" >&2; exit 2; }
}
# item NAME FILE: the base64 line "NAME ..." of the guest's output, decoded.
item() { sed -n "s/^$1 //p" "$tmp/out.log" | tr -d '\r' | base64 -d > "$2" 2>/dev/null && [ -s "$2" ] || { rm -f "$2"; false; }; }
hexof() { od -An -v -tx1 "$1" | tr -d ' \n'; }

do_attest() {
  local ev=${evidence:-$tmp/evidence} imgtool=${IMGTOOL:-$here/../build/imgtool} rc=0 quote_dir=$tmp/tpm
  ev=${ev%/}
  local st=$ev.state
  mkdir -p "$ev"
  rm -f "$ev"/{ek.der,enroll-ak.pub,nonce,credential,credential.blob,credential.secret,ak.pub,activated,activate-failed,quote.attest,quote.sig,pcrs,ima.log}
  rm -rf "$st"
  make_tpm "$tmp/tpm"
  cat "$tmp/ca/swtpm-localca-rootca-cert.pem" "$tmp/ca/issuercert.pem" > "$ev/ek-ca.pem"
  # Boot 1: enrol the EK certificate and the AK.
  start_tpm "$tmp/tpm"
  boot_exec "$attest_guest attest enroll" || { cat "$tmp/out.log" >&2 2>/dev/null; echo "run: attest enroll failed" >&2; exit 2; }
  item EKCERT "$ev/ek.der" && item AKPUB "$ev/enroll-ak.pub" || { echo "run: no EK cert / AK from the guest" >&2; exit 2; }
  # The verifier's challenge: a fresh nonce, a credential only that TPM can open.
  "$imgtool" attest challenge --evidence "$ev" --state "$st" --ek-ca "$ev/ek-ca.pem" || exit 2
  # Boot 2: the answer (on another TPM for --quote-tpm other).
  if [ "$quote_tpm" = other ]; then quote_dir=$tmp/tpm-other; make_tpm "$quote_dir"; fi
  start_tpm "$quote_dir"
  boot_exec "${exec_cmd:+$exec_cmd; }$attest_guest attest quote $(hexof "$st/nonce") $(hexof "$st/credential.blob") $(hexof "$st/credential.secret")" \
    || { grep -v '^[A-Z]* [A-Za-z0-9+/=]*$' "$tmp/out.log" >&2 2>/dev/null; echo "run: attest quote failed in the guest" >&2; exit 2; }
  item AKPUB "$ev/ak.pub" && item QUOTE "$ev/quote.attest" && item QUOTESIG "$ev/quote.sig" && item PCRS "$ev/pcrs" \
    && item IMALOG "$ev/ima.log" || { echo "run: incomplete evidence from the guest" >&2; exit 2; }
  item ACTIVATED "$ev/activated" || sed -n 's/^ACTIVATE-FAILED //p' "$tmp/out.log" > "$ev/activate-failed"
  # What CMD printed (everything but the evidence lines).
  grep -Ev '^(AKPUB|ACTIVATED|QUOTE|QUOTESIG|PCRS|IMALOG) [A-Za-z0-9+/=]*.?$|^ACTIVATE-FAILED ' "$tmp/out.log" || true
  "$imgtool" attest --reference "$reference" --cert "$ref_cert" --ek-ca "$ev/ek-ca.pem" --evidence "$ev" --state "$st" || rc=$?
  exit "$rc"
}

