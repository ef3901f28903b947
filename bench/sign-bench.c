/* µs per ECDSA P-256 signature (RFC 6979 k, sha256) for four signers in
 * one run, on the same digests, alternating rounds: round 1's hand-written
 * Montgomery code with batched inversions (r1_*, extracted from git by
 * bench/sign-bench), round 2's one BN_mod_exp_mont_consttime per signature
 * (r2_ecsign_*, ecsign.c before issue 24), issue 24's first
 * ecsign_sign_many (r3_ecsign_*, its HMAC-DRBG through EVP) and the current
 * ecsign_sign_many.  Every signer must give the same bytes; the figure is
 * thread CPU time (the machine is shared), wall time beside it. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "ima/ecsign.h"

int r2_ecsign_new(EVP_PKEY *pkey, const char *path, struct ecsign **out);
int r2_ecsign_sign(const struct ecsign *s, const EVP_MD *md, const uint8_t *digest, size_t len,
                   uint8_t **der, size_t *der_len);
int r3_ecsign_new(EVP_PKEY *pkey, const char *path, struct ecsign **out);
int r3_ecsign_sign_many(const struct ecsign *s, const EVP_MD *md, const uint8_t *const digests[], size_t len,
                        size_t n, uint8_t *der[], size_t der_len[]);
int r1_new(EVP_PKEY *pkey, void **out);
int r1_sign_batch(void *signer, const EVP_MD *md, const uint8_t *const digests[], size_t len, size_t n,
                  uint8_t *sigs[], size_t lens[]);

enum { N = 4096, BATCH = 64, SIGNERS = 4 };

static double cpu_now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double wall_now(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        int rounds = argc > 1 ? atoi(argv[1]) : 5;
        static uint8_t dig[N][32];
        const uint8_t *dp[N];
        static uint8_t *sig[SIGNERS][N];
        static size_t len[SIGNERS][N];
        double cpu[SIGNERS][64], wall[SIGNERS][64];
        const char *names[SIGNERS] = { "round 1: hand-written Montgomery, batched inversion (64)",
                                       "round 2: BN_mod_exp_mont_consttime per signature",
                                       "issue 24 (cf52556): ecsign_sign_many, one exponentiation per 64, HMAC through EVP",
                                       "now: the same, HMAC on SHA-2 states kept per key and per signer, DER written directly" };
        EVP_PKEY *pkey = EVP_EC_gen("P-256");
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);   /* fetched once, as imgtool does */
        struct ecsign *cur, *r2, *r3;
        void *r1;

        if (rounds < 1 || rounds > 64 || !pkey || r1_new(pkey, &r1) < 0 || r2_ecsign_new(pkey, "bench", &r2) < 0 ||
            r3_ecsign_new(pkey, "bench", &r3) < 0 || ecsign_new(pkey, "bench", &cur) < 0) {
                fprintf(stderr, "sign-bench: setup failed\n");
                return 1;
        }
        for (size_t i = 0; i < N; i++) {
                char m[32];
                snprintf(m, sizeof(m), "file %zu", i);
                EVP_Digest(m, strlen(m), dig[i], NULL, md, NULL);
                dp[i] = dig[i];
        }
        for (int r = 0; r < rounds; r++)
                for (int k = 0; k < SIGNERS; k++) {
                        int m = (k + r) % SIGNERS, rc = 0;
                        double c0 = cpu_now(), w0 = wall_now();
                        for (size_t i = 0; i < N && rc >= 0; i += BATCH) {
                                if (m == 0) {
                                        for (size_t j = i; r > 0 && j < i + BATCH; j++)
                                                OPENSSL_free(sig[0][j]);   /* the previous round's */
                                        rc = r1_sign_batch(r1, md, dp + i, 32, BATCH, sig[0] + i, len[0] + i);
                                } else if (m == 1)
                                        for (size_t j = i; j < i + BATCH && rc >= 0; j++)
                                                rc = r2_ecsign_sign(r2, md, dp[j], 32, &sig[1][j], &len[1][j]);
                                else if (m == 2)
                                        rc = r3_ecsign_sign_many(r3, md, dp + i, 32, BATCH, sig[2] + i, len[2] + i);
                                else
                                        rc = ecsign_sign_many(cur, md, dp + i, 32, BATCH, sig[3] + i, len[3] + i);
                        }
                        cpu[m][r] = (cpu_now() - c0) / N * 1e6;
                        wall[m][r] = (wall_now() - w0) / N * 1e6;
                        if (rc < 0) {
                                fprintf(stderr, "sign-bench: %s failed\n", names[m]);
                                return 1;
                        }
                        for (size_t i = 0; m > 0 && i < N; i++)
                                if (len[m][i] != len[0][i] || memcmp(sig[m][i], sig[0][i], len[0][i])) {
                                        fprintf(stderr, "sign-bench: %s: signature %zu differs from round 1's\n", names[m], i);
                                        return 1;
                                }
                        for (size_t i = 0; m > 0 && i < N; i++)
                                OPENSSL_free(sig[m][i]);
                }
        printf("| signer | median µs/signature (CPU) | min–max CPU | median µs (wall) |\n|---|---:|---:|---:|\n");
        for (int m = 0; m < SIGNERS; m++) {
                double c[64], w[64];
                memcpy(c, cpu[m], sizeof(double) * (size_t)rounds);
                memcpy(w, wall[m], sizeof(double) * (size_t)rounds);
                qsort(c, (size_t)rounds, sizeof(double), cmp_double);
                qsort(w, (size_t)rounds, sizeof(double), cmp_double);
                printf("| %s | %.1f | %.1f–%.1f | %.1f |\n", names[m], c[rounds / 2], c[0], c[rounds - 1], w[rounds / 2]);
        }
        /* per-round ratios: the signers of one round ran within seconds of
         * each other, so the machine's load moves them together */
        const int vs[][2] = { { 3, 0 }, { 3, 2 }, { 2, 0 } };
        const char *shortname[SIGNERS] = { "round 1", "round 2", "issue 24 (cf52556)", "now" };
        printf("\n| ratio of CPU µs, per round, then the median | median | min–max |\n|---|---:|---:|\n");
        for (size_t v = 0; v < sizeof(vs) / sizeof(vs[0]); v++) {
                double q[64];
                for (int r = 0; r < rounds; r++)
                        q[r] = cpu[vs[v][0]][r] / cpu[vs[v][1]][r];
                qsort(q, (size_t)rounds, sizeof(double), cmp_double);
                printf("| %s / %s | %.3f | %.3f–%.3f |\n", shortname[vs[v][0]], shortname[vs[v][1]], q[rounds / 2], q[0],
                       q[rounds - 1]);
        }
        printf("\n%d rounds of %d signatures each (P-256, sha256), same digests; every signer's bytes equal round 1's.\n",
               rounds, N);
        return 0;
}
