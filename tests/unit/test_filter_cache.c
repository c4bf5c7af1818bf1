/* The compiled-filter cache and its MAC: BLAKE2s against the reference
 * vectors, then sb_policy_load() against a real directory: a file is made
 * once and used after, and anything that was not written with the key (a
 * forged filter, with or without a plausible header, a link, a loose mode)
 * is compiled again and replaced. No kernel filter is loaded. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox_internal.h"

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < SB_BLAKE2S_LEN; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void digest_of(const void *key, size_t key_len, const void *data, size_t len, char *out)
{
	struct sb_blake2s s;
	uint8_t d[SB_BLAKE2S_LEN];

	sb_blake2s_init(&s, key, key_len);
	/* In uneven pieces: the block boundary logic is what breaks. */
	for (size_t pos = 0; pos < len;) {
		size_t n = len - pos < 7 ? len - pos : 7;

		sb_blake2s_update(&s, (const uint8_t *)data + pos, n);
		pos += n;
	}
	sb_blake2s_final(&s, d);
	hex(d, out);
}

Test(blake2s, reference_vectors)
{
	uint8_t key[32], msg[255];
	char out[65];

	for (int i = 0; i < 255; i++)
		msg[i] = (uint8_t)i;
	memcpy(key, msg, 32);
	/* RFC 7693 appendix B. */
	digest_of(NULL, 0, "abc", 3, out);
	cr_assert_str_eq(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	/* The reference implementation's keyed KAT (blake2s-kat.txt). */
	digest_of(key, 32, "", 0, out);
	cr_assert_str_eq(out, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49");
	digest_of(key, 32, msg, 64, out);
	cr_assert_str_eq(out, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4");
	digest_of(key, 32, msg, 255, out);
	cr_assert_str_eq(out, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd");
	digest_of(NULL, 0, msg, 65, out);
	cr_assert_str_eq(out, "1b53ee94aaf34e4b159d48de352c7f0661d0a40edff95a0b1639b4090e974472");
}

/* ---- the cache ------------------------------------------------------------ */

static char dir[PATH_MAX], policy[PATH_MAX + 32];

static void setup_dir(void)
{
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/ocr-filter-cache-%d", (int)getpid());
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(policy, sizeof(policy), "%s.policy", dir);
	f = fopen(policy, "w");
	cr_assert_not_null(f);
	fputs("allow read\nallow write\nkill mount  # no mounts\n"
	      "allow socket if arg0 == 1  # unix only\n",
	      f);
	fclose(f);
}

static void cleanup_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	unlink(policy);
}

/* The one seccomp-*.bpf in the cache dir. */
static void cache_file(char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "seccomp-", 8) == 0 && strstr(e->d_name, ".bpf") &&
		    !strstr(e->d_name, ".tmp")) {
			snprintf(out, len, "%s/%s", dir, e->d_name);
			n++;
		}
	}
	closedir(d);
	cr_assert_eq(n, 1, "%d cache files", n);
}

static size_t read_all(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	n = read(fd, buf, len);
	close(fd);
	cr_assert_geq(n, 0);
	return (size_t)n;
}

static void write_all(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert_geq(fd, 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	cr_assert_eq(chmod(path, mode), 0);
}

/* Loads through the cache and checks the result is the compiled policy. */
static void load_and_compare(void)
{
	struct sandbox_error err = {0};
	struct sb_bpf want, got;

	cr_assert_eq(sb_policy_compile(policy, &want, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(sb_policy_load(policy, dir, &got, &err), 0, "%s", err.msg);
	cr_assert_eq(got.len, want.len);
	cr_assert_eq(memcmp(got.insns, want.insns, want.len * sizeof(*want.insns)), 0,
		     "loaded a filter that is not the policy's");
	sb_bpf_release(&want);
	sb_bpf_release(&got);
}

static const struct sock_filter allow_all[] = {{0x06, 0, 0, SECCOMP_RET_ALLOW}};

Test(filter_cache, made_once_with_a_private_key, .init = setup_dir, .fini = cleanup_dir)
{
	char path[PATH_MAX + 300], key[PATH_MAX + 32];
	struct stat st, again;

	load_and_compare();
	cache_file(path, sizeof(path));
	snprintf(key, sizeof(key), "%s/filter.key", dir);
	cr_assert_eq(stat(key, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 32);
	cr_assert_eq(stat(path, &st), 0);
	load_and_compare();
	cr_assert_eq(stat(path, &again), 0);
	cr_assert_eq(st.st_ino, again.st_ino, "a good cache file was rewritten");
}

Test(filter_cache, forged_files_are_replaced, .init = setup_dir, .fini = cleanup_dir)
{
	char path[PATH_MAX + 300], other[PATH_MAX + 32];
	unsigned char orig[1 << 16], forged[256];
	size_t n;

	load_and_compare();
	cache_file(path, sizeof(path));
	n = read_all(path, orig, sizeof(orig));
	cr_assert_gt(n, 80);

	/* A bare allow-all program. */
	write_all(path, allow_all, sizeof(allow_all), 0600);
	load_and_compare();
	/* The real header (magic, digest) with one instruction and a MAC
	 * made without the key. */
	memcpy(forged, orig, 80);
	memset(forged + 8, 0, 4);
	forged[8] = 1;
	memset(forged + 48, 0x5a, 32);
	memcpy(forged + 80, allow_all, sizeof(allow_all));
	write_all(path, forged, 80 + sizeof(allow_all), 0600);
	load_and_compare();
	/* The real file with one instruction flipped. */
	orig[n - 4] ^= 0xff;
	write_all(path, orig, n, 0600);
	load_and_compare();
	orig[n - 4] ^= 0xff;
	/* A link to a file elsewhere. */
	snprintf(other, sizeof(other), "%s.elsewhere", dir);
	write_all(other, orig, n, 0600);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink(other, path), 0);
	load_and_compare();
	unlink(other);
	/* Writable by others: not trusted even though the content is right. */
	write_all(path, orig, n, 0666);
	load_and_compare();
}

Test(filter_cache, a_loose_key_is_replaced, .init = setup_dir, .fini = cleanup_dir)
{
	char key[PATH_MAX + 32];
	unsigned char before[32], after[32];

	load_and_compare();
	snprintf(key, sizeof(key), "%s/filter.key", dir);
	read_all(key, before, sizeof(before));
	cr_assert_eq(chmod(key, 0644), 0);
	load_and_compare();
	read_all(key, after, sizeof(after));
	cr_assert_neq(memcmp(before, after, 32), 0, "a readable key was kept");
}

Test(filter_cache, no_dir_means_no_cache)
{
	struct sandbox_error err = {0};
	struct sb_bpf bpf;

	snprintf(policy, sizeof(policy), "/tmp/ocr-filter-cache-none-%d.policy", (int)getpid());
	FILE *f = fopen(policy, "w");
	cr_assert_not_null(f);
	fputs("allow read\n", f);
	fclose(f);
	cr_assert_eq(sb_policy_load(policy, NULL, &bpf, &err), 0, "%s", err.msg);
	cr_assert_gt(bpf.len, 0);
	sb_bpf_release(&bpf);
	/* A directory that is not ours to trust (world-writable): compiled,
	 * nothing written there. */
	cr_assert_eq(sb_policy_load(policy, "/tmp", &bpf, &err), 0, "%s", err.msg);
	sb_bpf_release(&bpf);
	cr_assert_neq(access("/tmp/filter.key", F_OK), 0);
	unlink(policy);
}
