/* SPDX-License-Identifier: Apache-2.0 */
/* sha256_test.c: tools/sha256.c against FIPS 180-2's examples and Python's hashlib-made values. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "tools/sha256.h"

static void digest_of(const void *data, size_t len, size_t piece, char out[65])
{
	struct sha256 s;

	sha256_init(&s);
	for (size_t off = 0; off < len; off += piece)
		sha256_update(&s, (const uint8_t *)data + off, MIN(piece, len - off));
	sha256_hex(&s, out);
}

Test(sha256, known_digests)
{
	static const char *const msg2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static char million[1000000];
	char d[65];

	digest_of("", 0, 1, d);
	cr_assert_str_eq(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_of("abc", 3, 1, d);
	cr_assert_str_eq(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	for (size_t piece = 1; piece <= 64; piece++) {
		digest_of(msg2, strlen(msg2), piece, d);
		cr_assert_str_eq(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
				 "pieces of %zu", piece);
	}
	memset(million, 'a', sizeof(million));
	digest_of(million, sizeof(million), 4097, d);
	cr_assert_str_eq(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	digest_of(million, 55, 55, d); /* padding fits in the block */
	cr_assert_str_eq(d, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	digest_of(million, 56, 7, d);  /* padding needs another block */
	cr_assert_str_eq(d, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}
