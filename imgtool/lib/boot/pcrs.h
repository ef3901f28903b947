/* Predicting the TPM 2.0 PCRs (SHA-256 bank) that UEFI firmware and
 * systemd-stub leave after booting a Format=disk image with Secure Boot on,
 * from the disk and the owner's Secure Boot keys alone.
 *
 * What each PCR holds, per the TCG PC Client Platform Firmware Profile and
 * as edk2 (OVMF) and systemd-stub 252 measure it:
 *   4  EV_EFI_ACTION "Calling EFI Application from Boot Option",
 *      EV_SEPARATOR, the UKI's Authenticode digest
 *      (EV_EFI_BOOT_SERVICES_APPLICATION).  Assumes the disk is the first
 *      boot option tried: each boot option that fails before it adds a
 *      "Returning from..." / "Calling..." pair.
 *   5  EV_SEPARATOR, the disk's GPT (EV_EFI_GPT_EVENT: header and the used
 *      entries), "Exit Boot Services Invocation" and "...Returned with
 *      Success".
 *   7  SecureBoot=1, PK, KEK, db, dbx as enrolled (EV_EFI_VARIABLE_DRIVER_CONFIG),
 *      EV_SEPARATOR, then the db entry that verified the UKI
 *      (EV_EFI_VARIABLE_AUTHORITY).  dbx: KEYDIR/dbx.esl if present, else
 *      none (what `qemu-test/run --secure-boot` enrolls).
 *   11 systemd-stub: for .linux, .osrel, .cmdline, .initrd (in that order,
 *      when present) the section name with its NUL, then its content.
 * PCRs 0-3 and 6 hold the firmware's code, settings and option ROMs: they
 * depend on the firmware build and the machine, not on the disk, and must
 * be taken from a measured boot of that machine. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct pcr_value {
        unsigned index;
        uint8_t sha256[32];
        const char *what;          /* one line on what it covers */
};

struct pcrs_prediction {
        struct pcr_value pcr[4];   /* 4, 5, 7 (when keys were given), 11 */
        unsigned n;
        uint8_t uki_authenticode[32];
        char *db_subject;          /* the db cert that verifies the UKI (malloc'ed), or NULL */
};

/* keydir may be NULL: then PCR 7 is left out.  Errors name the file. */
int pcrs_predict(const char *disk, const char *keydir, struct pcrs_prediction *out);
void pcrs_prediction_free(struct pcrs_prediction *p);
