#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "image/compose.h"
#include "base/util.h"

/* Lines that quote packages: escaped, one line each (util.h). */
static void print_lines(FILE *f, const char *what, char *const *v)
{
        for (size_t i = 0; v && v[i]; i++) {
                char *e = escape_text(v[i], ESCAPE_LINE);
                fprintf(f, "  %s%s\n", what, e ? e : v[i]);
                free(e);
        }
}

void compose_report_print_summary(FILE *f, const struct compose_report *r, const char *output)
{
        double mb = (double)r->bytes / 1e6;
        fprintf(f, "%s: %zu package%s, %zu files, %zu entries (%zu dirs, %zu symlinks, %zu hard links, %zu devices), %.1f MB\n",
                output, r->packages, r->packages == 1 ? "" : "s", r->regular, r->files, r->directories, r->symlinks, r->hardlinks, r->devices, mb);
        fprintf(f, "  signatures: %zu from packages, %zu signed here, %zu allowed unsigned\n",
                r->sig_from_package, r->sig_signed_here, r->sig_allowed_unsigned);
        fprintf(f, "  image: %.1f MiB, %llu of %llu blocks used, %u-byte inodes, UUID %s, SOURCE_DATE_EPOCH %lld\n",
                (double)r->image_size / 1048576.0, (unsigned long long)r->blocks_used,
                (unsigned long long)(r->block_size ? r->image_size / r->block_size : 0), r->inode_size, r->uuid,
                (long long)r->source_date_epoch);
        if (r->users_created)
                fprintf(f, "  users and groups created: %zu\n", r->users_created);
        if (r->selinux_policy[0])
                fprintf(f, "  SELinux labels: %zu inodes (policy %s)\n", r->labelled, r->selinux_policy);
        if (r->disk_size)
                fprintf(f, "  disk: %.1f MiB GPT, ESP with a %s UKI of %.1f MB at \\EFI\\BOOT\\BOOTX64.EFI, root PARTUUID %s\n",
                        (double)r->disk_size / 1048576.0, r->uki_signed ? "signed" : "unsigned",
                        (double)r->uki_size / 1e6, r->root_partuuid);
        fprintf(f, "  time: %.2f s, %.1f MB/s\n", r->seconds, r->seconds > 0 ? mb / r->seconds : 0.0);
        print_lines(f, "scriptlet skipped: ", r->scriptlets_skipped);
        if (r->scriptlets_ran)
                fprintf(f, "  scriptlets run: %zu, in the image booted under QEMU\n", r->scriptlets_ran);
        print_lines(f, "scriptlet change: ", r->scriptlet_changes);
        print_lines(f, "created unsigned (no Key=): ", r->created_unsigned);
        print_lines(f, "warning: ", r->warnings);
        fprintf(f, "  wrote:");
        for (size_t i = 0; r->written && r->written[i]; i++)
                fprintf(f, "%s %s", i ? "," : "", r->written[i]);
        fputc('\n', f);
        if (r->boot_command)
                fprintf(f, "  boot it: %s\n", r->boot_command);
}

static json_object *keyid_json(uint32_t k)
{
        char hex[9];
        snprintf(hex, sizeof(hex), "%08x", k);
        return json_object_new_string(hex);
}

static json_object *packages_json(const struct compose_report *r)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; r->pkgs && i < r->packages; i++) {
                const struct compose_package_report *p = &r->pkgs[i];
                json_object *o = json_object_new_object(), *sig = json_object_new_object(),
                            *keys = json_object_new_array();
                json_object_object_add(o, "nevra", json_object_new_string(p->nevra));
                json_object_object_add(o, "rpm", json_object_new_string(p->file));
                json_object_object_add(o, "files", json_object_new_int64((int64_t)p->files));
                json_object_object_add(sig, "from_package", json_object_new_int64((int64_t)p->sig_from_package));
                json_object_object_add(sig, "signed_here", json_object_new_int64((int64_t)p->sig_signed_here));
                json_object_object_add(sig, "allowed_unsigned", json_object_new_int64((int64_t)p->sig_allowed_unsigned));
                for (size_t k = 0; k < p->n_keyids; k++)
                        json_object_array_add(keys, keyid_json(p->keyids[k]));
                json_object_object_add(sig, "keyids", keys);
                json_object_object_add(o, "signatures", sig);
                json_object_array_add(a, o);
        }
        return a;
}

static json_object *strv_json(char *const *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

int compose_report_json_text(const struct compose_report *r, const char *output, char **out)
{
        json_object *o = json_object_new_object(), *sig = json_object_new_object();
        json_object *keyids = json_object_new_object(), *trusted = json_object_new_array();
        const char *text;
        int ret;

        /* The fields are documented in docs/reports.md; a change
         * that breaks a reader bumps the schema. */
        json_object_object_add(o, "schema", json_object_new_int(1));
        json_object_object_add(o, "image", json_object_new_string(output));
        json_object_object_add(o, "written", strv_json(r->written));
        json_object_object_add(o, "boot_command", r->boot_command ? json_object_new_string(r->boot_command) : NULL);
        json_object_object_add(o, "packages", packages_json(r));
        json_object_object_add(o, "files", json_object_new_int64((int64_t)r->regular));
        json_object_object_add(o, "entries", json_object_new_int64((int64_t)r->files));
        json_object_object_add(o, "users_created", json_object_new_int64((int64_t)r->users_created));
        json_object_object_add(o, "labelled", json_object_new_int64((int64_t)r->labelled));
        json_object_object_add(o, "selinux_policy", r->selinux_policy[0] ? json_object_new_string(r->selinux_policy) : NULL);
        json_object_object_add(o, "directories", json_object_new_int64((int64_t)r->directories));
        json_object_object_add(o, "symlinks", json_object_new_int64((int64_t)r->symlinks));
        json_object_object_add(o, "hardlinks", json_object_new_int64((int64_t)r->hardlinks));
        json_object_object_add(o, "devices", json_object_new_int64((int64_t)r->devices));
        json_object_object_add(o, "bytes", json_object_new_int64((int64_t)r->bytes));
        json_object_object_add(sig, "from_package", json_object_new_int64((int64_t)r->sig_from_package));
        json_object_object_add(sig, "signed_here", json_object_new_int64((int64_t)r->sig_signed_here));
        json_object_object_add(sig, "allowed_unsigned", json_object_new_int64((int64_t)r->sig_allowed_unsigned));
        json_object_object_add(o, "signatures", sig);
        json_object_object_add(keyids, "signing_key", r->has_signing_key ? keyid_json(r->signing_keyid) : NULL);
        for (size_t i = 0; i < r->n_trusted; i++)
                json_object_array_add(trusted, keyid_json(r->trusted_keyids[i]));
        json_object_object_add(keyids, "trusted", trusted);
        json_object_object_add(o, "keyids", keyids);
        json_object_object_add(o, "image_size", json_object_new_int64((int64_t)r->image_size));
        json_object_object_add(o, "blocks_used", json_object_new_int64((int64_t)r->blocks_used));
        json_object_object_add(o, "block_size", json_object_new_int64((int64_t)r->block_size));
        json_object_object_add(o, "inode_size", json_object_new_int((int)r->inode_size));
        json_object_object_add(o, "uuid", json_object_new_string(r->uuid));
        json_object_object_add(o, "source_date_epoch", json_object_new_int64(r->source_date_epoch));
        json_object_object_add(o, "format", json_object_new_string(r->disk_size ? "disk" : "ext4"));
        if (r->disk_size) {
                json_object_object_add(o, "disk_size", json_object_new_int64((int64_t)r->disk_size));
                json_object_object_add(o, "uki_size", json_object_new_int64((int64_t)r->uki_size));
                json_object_object_add(o, "uki_signed", json_object_new_boolean(r->uki_signed));
                json_object_object_add(o, "root_partuuid", json_object_new_string(r->root_partuuid));
        }
        json_object_object_add(o, "seconds", json_object_new_double(r->seconds));
        json_object_object_add(o, "mb_per_s", json_object_new_double(r->seconds > 0 ? (double)r->bytes / 1e6 / r->seconds : 0));
        json_object_object_add(o, "scriptlets_skipped", strv_json(r->scriptlets_skipped));
        json_object_object_add(o, "scriptlets_run", json_object_new_int64((int64_t)r->scriptlets_ran));
        json_object_object_add(o, "scriptlet_changes", strv_json(r->scriptlet_changes));
        if (r->scriptlets_checked)
                json_object_object_add(o, "scriptlet_nondeterministic", strv_json(r->scriptlet_nondeterministic));
        json_object_object_add(o, "created_unsigned", strv_json(r->created_unsigned));
        json_object_object_add(o, "warnings", strv_json(r->warnings));
        json_object_object_add(o, "setid_cleared", strv_json(r->setid_cleared));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        *out = text ? strdup(text) : NULL;
        ret = *out ? 0 : -ENOMEM;
        json_object_put(o);
        return ret;
}
