/* imgtool pcrs: the PCR values a TPM 2.0 holds after firmware boots a disk
 * with Secure Boot on (lib/boot/pcrs.h says what each covers). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "boot/pcrs.h"
#include "base/util.h"

static const struct cmd_option options[] = {
        { "keys", 'k', "KEYDIR", "The folder of 'keygen --secure-boot' (PK.esl, KEK.esl, db.esl, optional dbx.esl as enrolled); without it PCR 7 is left out." },
        { "json", 'j', NULL, "Print the prediction as one JSON object." },
        {}
};

const struct cmd_spec cmd_pcrs_spec = {
        .name = "pcrs",
        .synopsis = "DISK [--keys KEYDIR] [--json]",
        .summary = "predict the TPM PCRs after firmware boots a disk with Secure Boot",
        .description = "Predicts the SHA-256 PCRs 4, 5, 7 and 11 after UEFI firmware boots DISK (compose "
                       "Format=disk) with Secure Boot on. PCRs 0-3 and 6 depend only on the firmware and the "
                       "machine: take them from a measured boot of it.",
        .options = options,
        .exits = CMD_EXITS_DEFAULT,
        .run = cmd_pcrs,
};

static void print_json(const struct pcrs_prediction *p)
{
        json_object *root = json_object_new_object(), *pcrs = json_object_new_object();
        char hex[65];

        for (unsigned i = 0; i < p->n; i++) {
                char key[8];
                snprintf(key, sizeof(key), "%u", p->pcr[i].index);
                hex_encode(p->pcr[i].sha256, 32, hex);
                json_object_object_add(pcrs, key, json_object_new_string(hex));
        }
        json_object_object_add(root, "bank", json_object_new_string("sha256"));
        json_object_object_add(root, "pcrs", pcrs);
        hex_encode(p->uki_authenticode, 32, hex);
        json_object_object_add(root, "uki_authenticode_sha256", json_object_new_string(hex));
        if (p->db_subject)
                json_object_object_add(root, "db_authority", json_object_new_string(p->db_subject));
        json_object *fw = json_object_new_array();
        for (int i = 0; i <= 6; i++)
                if (i != 4 && i != 5)
                        json_object_array_add(fw, json_object_new_int(i));
        json_object_object_add(root, "firmware_pcrs", fw);
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
}

int cmd_pcrs(int argc, char **argv)
{
        const char *keys = NULL;
        bool json = false;
        struct pcrs_prediction p;
        char hex[65];
        int c, r;

        struct cmd_parser cp;

        cmd_parser_init(&cp, &cmd_pcrs_spec, argc, argv);
        while ((c = cmd_getopt(&cp)) > 0) {
                switch (c) {
                case 'k': keys = cp.arg; break;
                case 'j': json = true; break;
                }
        }
        if (c < 0)
                return cp.exit;
        if (argc - cp.next != 1)
                return cmd_usage_error(&cp, "expected exactly one DISK");
        if ((r = pcrs_predict(argv[cp.next], keys, &p)) < 0)
                return cmd_fail(r);
        if (json) {
                print_json(&p);
        } else {
                for (unsigned i = 0; i < p.n; i++) {
                        hex_encode(p.pcr[i].sha256, 32, hex);
                        printf("%2u %s  %s\n", p.pcr[i].index, hex, p.pcr[i].what);
                }
                if (p.db_subject)
                        printf("# the UKI verifies with db entry %s\n", p.db_subject);
                printf("# PCRs 0-3 and 6: firmware code and settings; take them from a measured boot of the machine\n");
        }
        pcrs_prediction_free(&p);
        return EXIT_OK;
}
