/* The one-pass bound: the work composing an IMA-signed image from RPMs cannot skip.
 *
 *   bound parts KEY OUT RPM...        time each part alone, one core:
 *                                     zstd decompression of every payload, sha256 of
 *                                     every regular file's bytes, one ECDSA signature
 *                                     per file, writing the file bytes to OUT + fdatasync
 *   bound onepass -j N KEY OUT RPM... the same work in one pass per package, N threads
 *
 * Prints one JSON object.  Built by bench/run (cc -O2 ... -lzstd -lcrypto); it is a
 * measuring instrument, not part of imgtool.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <zstd.h>

/* fetched once: OpenSSL 3 looks the algorithm up on every call otherwise */
static EVP_MD *sha256;

struct totals {
	double decompress, hash, sign, write;
	uint64_t files, file_bytes, payload_bytes;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *file)
{
	fprintf(stderr, "bound: %s: %s\n", file, what);
	exit(2);
}

static void *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(strerror(errno), path);
	char *buf = malloc(st.st_size ? st.st_size : 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);
		if (n <= 0)
			die("short read", path);
		got += n;
	}
	close(fd);
	*len = got;
	return buf;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/* Where the payload starts: 96-byte lead, signature header padded to 8, header. */
static size_t payload_offset(const unsigned char *rpm, size_t len, const char *path)
{
	size_t off = 96;
	for (int i = 0; i < 2; i++) {
		if (off + 16 > len || memcmp(rpm + off, "\x8e\xad\xe8\x01", 4) != 0)
			die("not an RPM header", path);
		off += 16 + 16 * (size_t)be32(rpm + off + 8) + be32(rpm + off + 12);
		if (i == 0)
			off = (off + 7) & ~(size_t)7;
	}
	if (off > len)
		die("truncated", path);
	return off;
}

static unsigned char *decompress(const unsigned char *src, size_t len, size_t *outlen,
				 const char *path)
{
	size_t cap = len * 4 + (1 << 20), n = 0;
	unsigned char *out = malloc(cap);
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer in = { src, len, 0 };
	for (;;) {
		if (cap - n < (1 << 20))
			out = realloc(out, cap *= 2);
		ZSTD_outBuffer o = { out + n, cap - n, 0 };
		size_t r = ZSTD_decompressStream(ds, &o, &in);
		if (ZSTD_isError(r))
			die(ZSTD_getErrorName(r), path);
		n += o.pos;
		if (r == 0 && in.pos == in.size)
			break;
		if (o.pos == 0 && in.pos == in.size)
			die("truncated zstd payload", path);
	}
	ZSTD_freeDStream(ds);
	*outlen = n;
	return out;
}

static uint32_t hex8(const unsigned char *p)
{
	char tmp[9];
	memcpy(tmp, p, 8);
	tmp[8] = 0;
	return strtoul(tmp, NULL, 16);
}

/* Each regular file in a newc archive: calls fn(data, size, arg). */
static void each_file(const unsigned char *a, size_t len, const char *path,
		      void (*fn)(const unsigned char *, size_t, void *), void *arg)
{
	size_t off = 0;
	while (off + 110 <= len) {
		if (memcmp(a + off, "070701", 6) != 0)
			die("payload is not a newc cpio archive", path);
		uint32_t mode = hex8(a + off + 14), size = hex8(a + off + 54);
		uint32_t namesize = hex8(a + off + 94);
		const char *name = (const char *)a + off + 110;
		off = (off + 110 + namesize + 3) & ~(size_t)3;
		if (namesize == 11 && strcmp(name, "TRAILER!!!") == 0)
			return;
		if (off + size > len)
			die("truncated cpio entry", path);
		if ((mode & 0170000) == 0100000)
			fn(a + off, size, arg);
		off = (off + size + 3) & ~(size_t)3;
	}
}

struct signer {
	EVP_PKEY_CTX *ctx;
	unsigned char sig[256];
};

static void signer_init(struct signer *s, EVP_PKEY *key)
{
	s->ctx = EVP_PKEY_CTX_new(key, NULL);
	if (!s->ctx || EVP_PKEY_sign_init(s->ctx) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(s->ctx, sha256) <= 0)
		die("cannot set up signing", "key");
}

static void sign_digest(struct signer *s, const unsigned char *md)
{
	size_t siglen = sizeof(s->sig);
	if (EVP_PKEY_sign(s->ctx, s->sig, &siglen, md, 32) <= 0)
		die("signing failed", "key");
}

/* ---- parts: every stage timed alone over the same data ---- */

struct parts_ctx {
	struct totals *t;
	struct signer *s;
	int out;
	unsigned char (*digests)[32];
	size_t ndigests, cap;
};

static void hash_one(const unsigned char *data, size_t size, void *arg)
{
	struct parts_ctx *c = arg;
	if (c->ndigests == c->cap)
		c->digests = realloc(c->digests, (c->cap = c->cap * 2 + 64) * 32);
	unsigned int mdlen;
	EVP_Digest(data, size, c->digests[c->ndigests++], &mdlen, sha256, NULL);
	c->t->files++;
	c->t->file_bytes += size;
}

static void write_one(const unsigned char *data, size_t size, void *arg)
{
	struct parts_ctx *c = arg;
	while (size) {
		ssize_t n = write(c->out, data, size);
		if (n <= 0)
			die(strerror(errno), "output");
		data += n;
		size -= n;
	}
}

static void run_parts(EVP_PKEY *key, const char *out, int n, char **rpms, struct totals *t)
{
	struct signer s;
	struct parts_ctx c = { .t = t, .s = &s };
	signer_init(&s, key);
	c.out = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c.out < 0)
		die(strerror(errno), out);
	for (int i = 0; i < n; i++) {
		size_t len, plen;
		unsigned char *rpm = read_all(rpms[i], &len);
		size_t off = payload_offset(rpm, len, rpms[i]);
		double t0 = now();
		unsigned char *payload = decompress(rpm + off, len - off, &plen, rpms[i]);
		double t1 = now();
		c.ndigests = 0;
		each_file(payload, plen, rpms[i], hash_one, &c);
		double t2 = now();
		for (size_t d = 0; d < c.ndigests; d++)
			sign_digest(&s, c.digests[d]);
		double t3 = now();
		each_file(payload, plen, rpms[i], write_one, &c);
		double t4 = now();
		t->decompress += t1 - t0;
		t->hash += t2 - t1;
		t->sign += t3 - t2;
		t->write += t4 - t3;
		t->payload_bytes += len - off;
		free(payload);
		free(rpm);
	}
	double t0 = now();
	if (fdatasync(c.out) < 0 || close(c.out) < 0)
		die(strerror(errno), out);
	t->write += now() - t0;
	EVP_PKEY_CTX_free(s.ctx);
	free(c.digests);
}

/* ---- onepass: decompress, hash, sign and write each file as it streams by ---- */

struct pass {
	EVP_PKEY *key;
	int out, n;
	char **rpms;
	atomic_int next;
	atomic_uint_fast64_t offset, files, file_bytes;
};

struct worker {
	struct pass *p;
	struct signer s;
};

static void pass_one(const unsigned char *data, size_t size, void *arg)
{
	struct worker *w = arg;
	unsigned char md[32];
	unsigned int mdlen;
	EVP_Digest(data, size, md, &mdlen, sha256, NULL);
	sign_digest(&w->s, md);
	/* ext4 puts each file on block boundaries: reserve whole 4 KiB blocks */
	uint64_t off = atomic_fetch_add(&w->p->offset, (size + 4095) & ~(uint64_t)4095);
	while (size) {
		ssize_t n = pwrite(w->p->out, data, size, off);
		if (n <= 0)
			die(strerror(errno), "output");
		data += n;
		off += n;
		size -= n;
	}
	atomic_fetch_add(&w->p->files, 1);
}

static void *pass_worker(void *arg)
{
	struct worker *w = arg;
	signer_init(&w->s, w->p->key);
	for (int i; (i = atomic_fetch_add(&w->p->next, 1)) < w->p->n;) {
		size_t len, plen;
		unsigned char *rpm = read_all(w->p->rpms[i], &len);
		size_t off = payload_offset(rpm, len, w->p->rpms[i]);
		unsigned char *payload = decompress(rpm + off, len - off, &plen, w->p->rpms[i]);
		each_file(payload, plen, w->p->rpms[i], pass_one, w);
		atomic_fetch_add(&w->p->file_bytes, plen);
		free(payload);
		free(rpm);
	}
	EVP_PKEY_CTX_free(w->s.ctx);
	return NULL;
}

static double run_onepass(EVP_PKEY *key, const char *out, int jobs, int n, char **rpms,
			  struct totals *t)
{
	struct pass p = { .key = key, .n = n, .rpms = rpms };
	struct worker w[64];
	pthread_t th[64];
	p.out = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (p.out < 0)
		die(strerror(errno), out);
	double t0 = now();
	for (int j = 0; j < jobs; j++) {
		w[j].p = &p;
		pthread_create(&th[j], NULL, pass_worker, &w[j]);
	}
	for (int j = 0; j < jobs; j++)
		pthread_join(th[j], NULL);
	if (fdatasync(p.out) < 0 || close(p.out) < 0)
		die(strerror(errno), out);
	t->files = p.files;
	t->file_bytes = p.file_bytes;
	return now() - t0;
}

static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(strerror(errno), path);
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		die("not a PEM private key", path);
	return k;
}

int main(int argc, char **argv)
{
	struct totals t = { 0 };
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (argc >= 5 && strcmp(argv[1], "parts") == 0) {
		EVP_PKEY *key = load_key(argv[2]);
		run_parts(key, argv[3], argc - 4, argv + 4, &t);
		printf("{\"decompress\": %.4f, \"hash\": %.4f, \"sign\": %.4f, \"write\": %.4f, "
		       "\"files\": %" PRIu64 ", \"file_bytes\": %" PRIu64
		       ", \"payload_bytes\": %" PRIu64 "}\n",
		       t.decompress, t.hash, t.sign, t.write, t.files, t.file_bytes,
		       t.payload_bytes);
		EVP_PKEY_free(key);
		return 0;
	}
	if (argc >= 7 && strcmp(argv[1], "onepass") == 0 && strcmp(argv[2], "-j") == 0) {
		int jobs = atoi(argv[3]);
		if (jobs < 1 || jobs > 64)
			die("jobs must be 1..64", "-j");
		EVP_PKEY *key = load_key(argv[4]);
		double wall = run_onepass(key, argv[5], jobs, argc - 6, argv + 6, &t);
		printf("{\"jobs\": %d, \"wall\": %.4f, \"files\": %" PRIu64 "}\n", jobs, wall,
		       t.files);
		EVP_PKEY_free(key);
		return 0;
	}
	fprintf(stderr, "usage: bound parts KEY OUT RPM...\n"
			"       bound onepass -j N KEY OUT RPM...\n");
	return 2;
}
