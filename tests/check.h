/* tests/check.h — the tiny harness every test program uses.
 *
 * CHECK(cond) and CHECK_EQ(a, b) record a failure with file:line and carry on,
 * so one run reports every broken expectation; main() ends with
 * `return check_exit();` which gives 0 (all passed) or 1. A test that cannot run
 * here returns 77 (CTest's skip). Values printed in hex, as the specs write them.
 */
#ifndef VSVA_TESTS_CHECK_H
#define VSVA_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned check_failures;
static unsigned check_count;

static inline void check_note(int passed)
{
	__atomic_fetch_add(&check_count, 1, __ATOMIC_RELAXED);
	if (!passed)
		__atomic_fetch_add(&check_failures, 1, __ATOMIC_RELAXED);
}

#define CHECK(cond)                                                                     \
	do {                                                                            \
		int check_ok_ = !!(cond);                                               \
		check_note(check_ok_);                                                  \
		if (!check_ok_) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                       \
	} while (0)

#define CHECK_EQ(a, b)                                                                  \
	do {                                                                            \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);           \
		check_note(check_a_ == check_b_);                                       \
		if (check_a_ != check_b_) {                                             \
			fprintf(stderr, "%s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);        \
		}                                                                       \
	} while (0)

/* For context in loops: prints once per failing iteration. */
#define CHECK_MSG(cond, ...)                                                            \
	do {                                                                            \
		int check_ok_ = !!(cond);                                               \
		check_note(check_ok_);                                                  \
		if (!check_ok_) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fputc('\n', stderr);                                            \
		}                                                                       \
	} while (0)

static inline int check_exit(void)
{
	if (check_failures) {
		fprintf(stderr, "%u of %u checks failed\n", check_failures, check_count);
		return 1;
	}
	printf("%u checks passed\n", check_count);
	return 0;
}

#endif
