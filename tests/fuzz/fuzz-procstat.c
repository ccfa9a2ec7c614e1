/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the /proc parsers (lib/procinfo-parse.c): whatever
 * the bytes, no crash, no read outside them, and the results keep their
 * invariants. Built by 'make fuzz' with clang -fsanitize=fuzzer,address. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "procinfo-parse.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct pw__statline st, again;
	struct pw__statm sm;
	struct pw__status ps;
	const char *p = buf;
	uint64_t v;
	int n;

	if (pw__parse_stat(buf, size, 0, &st) == 0) {
		CHECK(st.pid > 0 && st.pid <= INT32_MAX);
		CHECK(st.comm_len <= PW_COMM_MAX && st.comm[st.comm_len] == '\0');
		CHECK(st.state != 0 && st.nfields >= 3);
		for (n = 0; n <= PW_STAT_FIELDS; n++) {
			CHECK(st.have[n] == 0 || st.have[n] == 1);
			CHECK(st.have[n] == 0 || (n >= 4 && n <= st.nfields));
			CHECK(st.have[n] || pw__stat_signed(&st, n) == 0);
		}
		/* the pid check accepts the line's own pid, and only it */
		CHECK(pw__parse_stat(buf, size, st.pid, &again) == 0);
		CHECK(again.pid == st.pid && again.state == st.state &&
		      again.nfields == st.nfields && again.comm_len == st.comm_len &&
		      memcmp(again.comm, st.comm, st.comm_len + 1) == 0 &&
		      memcmp(again.have, st.have, sizeof(st.have)) == 0);
		for (n = 0; n <= PW_STAT_FIELDS; n++)
			CHECK(!st.have[n] || again.v[n] == st.v[n]);
		CHECK(pw__parse_stat(buf, size, st.pid == 1 ? 2 : 1, &again) < 0);
	}
	CHECK(pw__parse_statm(buf, size, &sm) == 0 && sm.n >= 0 && sm.n <= 7);
	CHECK(pw__parse_status(buf, size, &ps) == 0);
	v = 0;
	CHECK(pw__parse_btime(buf, size, &v) == 0 ? v > 0 && v <= INT64_MAX : v == 0);
	CHECK(!(ps.have & PW_STATUS_TGID) || ps.tgid > 0);
	while (p < buf + size) {
		const char *before = p;

		if (pw__scan_u64(&p, buf + size, &v) == 0) {
			CHECK(p > before && p <= buf + size);
		} else {
			CHECK(p == before);
			p++;
		}
	}
	return 0;
}
