#include "ima/pubkey.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ima/keys.h"
#include "base/util.h"

int pubkey_read_file(const char *path, EVP_PKEY **out)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        EVP_PKEY *k;

        if (!f)
                return imgerr(-errno, "%s: %s", path, strerror(errno));
        k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        if (!k) {
                rewind(f);
                k = d2i_PUBKEY_fp(f, NULL);
        }
        ERR_clear_error();
        if (!k)
                return 0;
        *out = k;
        return 1;
}

int pubkey_ima_keyid(EVP_PKEY *pkey, uint32_t *keyid)
{
        unsigned char *der = NULL, md[SHA_DIGEST_LENGTH];
        int len = i2d_PublicKey(pkey, &der);

        if (len <= 0) {
                ERR_clear_error();
                return imgerr(-EINVAL, "cannot encode the public key");
        }
        SHA1(der, (size_t)len, md);
        OPENSSL_free(der);
        *keyid = (uint32_t)md[16] << 24 | (uint32_t)md[17] << 16 | (uint32_t)md[18] << 8 | md[19];
        return 0;
}

/* Both files appear, or neither: temporaries linked into place (link never
 * replaces a file that appeared meanwhile). */
static int write_pair(char *const paths[2], const uint8_t *data[2], const size_t len[2])
{
        char *tmps[2] = { NULL, NULL };
        int r = 0, linked = 0;

        for (int i = 0; i < 2 && r >= 0; i++) {
                int fd;
                r = tmpfile_beside(paths[i], &tmps[i], &fd);
                if (r < 0)
                        break;
                if (fchmod(fd, 0644) < 0 || write(fd, data[i], len[i]) != (ssize_t)len[i] || fsync(fd) < 0)
                        r = imgerr(-errno, "%s: cannot write: %s", paths[i], strerror(errno));
                close(fd);
        }
        for (; r >= 0 && linked < 2; linked++)
                if (link(tmps[linked], paths[linked]) < 0)
                        r = imgerr(-errno, "%s: %s", paths[linked],
                                   errno == EEXIST ? "already exists, not overwriting" : strerror(errno));
        if (r < 0)
                for (int i = 0; i < linked; i++)
                        unlink(paths[i]);
        for (int i = 0; i < 2; i++) {
                if (tmps[i])
                        unlink(tmps[i]);
                free(tmps[i]);
        }
        return r;
}

int keygen_issue_for_key(const char *dir, const char *pubkey_path, const struct keygen_opts *o, uint32_t *keyid)
{
        _cleanup_free_ char *crt = NULL, *der_path = NULL;
        EVP_PKEY *pub = NULL;
        X509 *x = NULL;
        BIO *bio = NULL;
        unsigned char *der = NULL;
        char *pem = NULL;
        int r, der_len = 0;
        long pem_len = 0;

        if (!o->issuer_dir || o->ca)
                return imgerr(-EINVAL, "--for-key needs --issuer CADIR (and no --ca)");
        r = pubkey_read_file(pubkey_path, &pub);
        if (r == 0)
                r = imgerr(-EBADMSG, "%s: not a public key (PEM PUBLIC KEY or DER)", pubkey_path);
        if (r < 0)
                return r;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                r = imgerr(-errno, "%s: cannot create directory: %s", dir, strerror(errno));
        if (r >= 0 && (asprintf(&crt, "%s/signing.crt", dir) < 0 || asprintf(&der_path, "%s/signing.der", dir) < 0))
                r = -ENOMEM;
        if (r >= 0)
                r = keygen_cert_for_key(pub, o, &x);
        if (r >= 0 && ((der_len = i2d_X509(x, &der)) <= 0 || !(bio = BIO_new(BIO_s_mem())) ||
                       !PEM_write_bio_X509(bio, x) || (pem_len = BIO_get_mem_data(bio, &pem)) <= 0))
                r = imgerr(-ENOMEM, "cannot encode the certificate");
        if (r >= 0) {
                char *paths[2] = { crt, der_path };
                const uint8_t *data[2] = { (uint8_t *)pem, der };
                const size_t len[2] = { (size_t)pem_len, (size_t)der_len };
                r = write_pair(paths, data, len);
        }
        if (r >= 0)
                r = pubkey_ima_keyid(pub, keyid);
        ERR_clear_error();
        BIO_free(bio);
        OPENSSL_free(der);
        X509_free(x);
        EVP_PKEY_free(pub);
        return r;
}
