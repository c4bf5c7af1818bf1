/* The compiled-filter cache. Compiling the default policy costs ~1.2 ms, a
 * tenth of a whole sandbox start, and libseccomp's work raises the
 * launcher's peak RSS; so the BPF is kept in a directory the caller names
 * (sandbox_set_filter_cache()).
 *
 * A forged cache file switches seccomp off for every later sandbox, so
 * nothing in that directory is trusted for where it is or who owns it: a
 * file is loaded only when a keyed MAC over it checks out. The key is 32
 * random bytes in DIR/filter.key, made 0600 on first use; whoever can read
 * it could forge, so the directory must be the caller's, writable by nobody
 * else, and never shown to a sandbox (the caller's promise). Every open is
 * relative to the directory's fd, O_NOFOLLOW, non-blocking, regular files
 * only, size-capped. Any doubt means: compile, and rewrite the file.
 *
 *   seccomp-<16 hex>.bpf = header (magic, count, policy digest, MAC) + BPF
 *
 * The policy digest is a plain BLAKE2s of the policy text, libseccomp's
 * version and the header layout; the MAC is a keyed BLAKE2s of the header
 * (MAC zeroed) and the instructions. */
#include "sandbox_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#define CACHE_MAGIC "OCRBPF2\n"
#define KEY_FILE    "filter.key"
#define MAX_INSNS   4096 /* BPF_MAXINSNS: the kernel loads no more */

struct cache_header {
	char magic[8];
	uint32_t n_insns;
	uint32_t reserved;
	uint8_t policy_digest[SB_BLAKE2S_LEN];
	uint8_t mac[SB_BLAKE2S_LEN];
};

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

static void policy_digest(const char *text, size_t len, uint8_t out[SB_BLAKE2S_LEN])
{
	const struct scmp_version *v = seccomp_version();
	uint32_t meta[4] = {v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0,
			    (uint32_t)sizeof(struct cache_header)};
	struct sb_blake2s s;

	sb_blake2s_init(&s, NULL, 0);
	sb_blake2s_update(&s, CACHE_MAGIC, 8);
	sb_blake2s_update(&s, meta, sizeof(meta));
	sb_blake2s_update(&s, text, len);
	sb_blake2s_final(&s, out);
}

static void cache_mac(const uint8_t key[SB_BLAKE2S_LEN], const struct cache_header *h,
		      const struct sock_filter *insns, uint8_t out[SB_BLAKE2S_LEN])
{
	struct cache_header copy = *h;
	struct sb_blake2s s;

	memset(copy.mac, 0, sizeof(copy.mac));
	sb_blake2s_init(&s, key, SB_BLAKE2S_LEN);
	sb_blake2s_update(&s, &copy, sizeof(copy));
	sb_blake2s_update(&s, insns, (size_t)h->n_insns * sizeof(*insns));
	sb_blake2s_final(&s, out);
}

/* Constant time: how many bytes match must not leak through timing. */
static bool same_mac(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < SB_BLAKE2S_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* An fd of NAME in DIRFD that is a regular file we own, that nobody else may
 * write (and, with SECRET, read), of at most MAX bytes; -1 otherwise. */
static int open_trusted(int dirfd, const char *name, bool secret, off_t max, struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_uid != geteuid() ||
	    (st->st_mode & (secret ? 077 : 022)) || st->st_size > max) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* Writes DATA to NAME through a private temp file: readers see the old file
 * or the new one. With EXCL, an existing NAME wins (EEXIST). */
static int write_atomic(int dirfd, const char *name, const void *data, size_t len, bool excl)
{
	char tmp[96];
	cleanup_close int fd = -1;
	int rc;

	snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid());
	unlinkat(dirfd, tmp, 0); /* a leftover of a crashed run with our pid */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	rc = excl ? linkat(dirfd, tmp, dirfd, name, 0) : renameat(dirfd, tmp, dirfd, name);
	if (rc < 0 || excl) {
		int saved = errno;

		unlinkat(dirfd, tmp, 0);
		errno = saved;
	}
	return rc;
}

static int read_key(int dirfd, uint8_t key[SB_BLAKE2S_LEN])
{
	struct stat st;
	cleanup_close int fd = open_trusted(dirfd, KEY_FILE, true, SB_BLAKE2S_LEN, &st);

	if (fd < 0)
		return -1;
	return st.st_size == SB_BLAKE2S_LEN && pread(fd, key, SB_BLAKE2S_LEN, 0) == SB_BLAKE2S_LEN
		   ? 0
		   : -1;
}

/* The directory's key, made on first use. A key file that is not what we
 * would have written (mode, owner, size) may have been read by someone:
 * replace it, which also voids every file MACed with it. */
static int load_key(int dirfd, uint8_t key[SB_BLAKE2S_LEN])
{
	bool missing;

	if (read_key(dirfd, key) == 0)
		return 0;
	missing = errno == ENOENT;
	if (getrandom(key, SB_BLAKE2S_LEN, 0) != SB_BLAKE2S_LEN)
		return -1;
	if (write_atomic(dirfd, KEY_FILE, key, SB_BLAKE2S_LEN, missing) == 0)
		return 0;
	/* Another launcher made it first: use theirs. */
	return missing && errno == EEXIST ? read_key(dirfd, key) : -1;
}

/* The directory, if it is ours and nobody else can write it. */
static int open_cache_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int cache_read(int dirfd, const char *name, const uint8_t key[SB_BLAKE2S_LEN],
		      const uint8_t digest[SB_BLAKE2S_LEN], struct sb_bpf *out)
{
	const off_t max =
	    (off_t)(sizeof(struct cache_header) + MAX_INSNS * sizeof(struct sock_filter));
	struct cache_header h;
	uint8_t mac[SB_BLAKE2S_LEN];
	struct stat st;
	cleanup_close int fd = open_trusted(dirfd, name, false, max, &st);
	size_t size;

	if (fd < 0 || (size_t)st.st_size < sizeof(h) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return -1;
	if (memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.n_insns == 0 || h.n_insns > MAX_INSNS ||
	    (size_t)st.st_size != sizeof(h) + h.n_insns * sizeof(struct sock_filter) ||
	    !same_mac(h.policy_digest, digest))
		return -1;
	size = h.n_insns * sizeof(struct sock_filter);
	out->insns = malloc(size);
	if (!out->insns)
		return -1;
	if (pread(fd, out->insns, size, sizeof(h)) != (ssize_t)size)
		goto bad;
	cache_mac(key, &h, out->insns, mac);
	if (!same_mac(mac, h.mac))
		goto bad;
	out->len = h.n_insns;
	return 0;
bad:
	sb_bpf_release(out);
	return -1;
}

/* Best effort: a full disk just means no cache. */
static void cache_write(int dirfd, const char *name, const uint8_t key[SB_BLAKE2S_LEN],
			const uint8_t digest[SB_BLAKE2S_LEN], const struct sb_bpf *bpf)
{
	size_t size = bpf->len * sizeof(struct sock_filter);
	struct cache_header h = {.n_insns = (uint32_t)bpf->len};
	cleanup_free char *buf = NULL;

	if (bpf->len == 0 || bpf->len > MAX_INSNS || !(buf = malloc(sizeof(h) + size)))
		return;
	memcpy(h.magic, CACHE_MAGIC, 8);
	memcpy(h.policy_digest, digest, SB_BLAKE2S_LEN);
	cache_mac(key, &h, bpf->insns, h.mac);
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), bpf->insns, size);
	if (write_atomic(dirfd, name, buf, sizeof(h) + size, false) < 0) {
		/* Nothing to do: the next run compiles again. */
	}
}

int sb_policy_load(const char *path, const char *cache_dir, struct sb_bpf *out,
		   struct sandbox_error *err)
{
	cleanup_free char *text = NULL;
	cleanup_close int dirfd = -1;
	uint8_t digest[SB_BLAKE2S_LEN], key[SB_BLAKE2S_LEN];
	char name[64];
	size_t len = 0;
	int rc;

	out->insns = NULL;
	out->len = 0;
	/* Read once: what is hashed is exactly what is compiled. */
	if (sb_policy_read(path, &text, &len, err) < 0)
		return -1;
	if (!cache_dir || (dirfd = open_cache_dir(cache_dir)) < 0 || load_key(dirfd, key) < 0)
		return sb_policy_compile_text(path, text, len, out, NULL, err);
	policy_digest(text, len, digest);
	snprintf(name, sizeof(name), "seccomp-%02x%02x%02x%02x%02x%02x%02x%02x.bpf", digest[0],
		 digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7]);
	if (cache_read(dirfd, name, key, digest, out) == 0) {
		wipe(key, sizeof(key));
		return 0;
	}
	rc = sb_policy_compile_text(path, text, len, out, NULL, err);
	if (rc == 0)
		cache_write(dirfd, name, key, digest, out);
	wipe(key, sizeof(key));
	return rc;
}
