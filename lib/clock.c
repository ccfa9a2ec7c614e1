/* SPDX-License-Identifier: MIT */
/* Deadlines: one absolute CLOCK_MONOTONIC instant per wait. */
#include "internal.h"

#include <limits.h>
#include <time.h>

int64_t pw__now_ns(void)
{
#ifdef HAVE_WIN32_BACKEND
	/* QueryPerformanceCounter is monotonic; its frequency is fixed at
	 * boot. Split the conversion so that it cannot overflow. */
	LARGE_INTEGER f, c;

	QueryPerformanceFrequency(&f);
	QueryPerformanceCounter(&c);
	return (int64_t)(c.QuadPart / f.QuadPart) * 1000000000LL +
	       (int64_t)(c.QuadPart % f.QuadPart) * 1000000000LL / f.QuadPart;
#else
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#endif
}

void pw__deadline_init(pw__deadline *d, int timeout_ms)
{
	d->forever = timeout_ms < 0;
	/* INT_MAX ms is about 2.1e15 ns: far from overflowing int64_t. */
	d->at_ns = d->forever ? 0 : pw__now_ns() + (int64_t)timeout_ms * 1000000LL;
}

int64_t pw__deadline_ns(const pw__deadline *d)
{
	int64_t left;

	if (d->forever)
		return INT64_MAX;
	left = d->at_ns - pw__now_ns();
	return left > 0 ? left : 0;
}

int pw__deadline_ms(const pw__deadline *d)
{
	int64_t ns = pw__deadline_ns(d);
	int64_t ms;

	if (d->forever)
		return -1;
	ms = ns / 1000000LL + (ns % 1000000LL != 0);   /* round up */
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

int pw__ms_until(int64_t at_ns)
{
	int64_t d;

	if (at_ns == INT64_MAX)
		return -1;
	d = at_ns - pw__now_ns();
	if (d <= 0)
		return 0;
	d = (d + 999999) / 1000000;
	return d > INT_MAX ? INT_MAX : (int)d;
}

int pw__deadline_ms_before(const pw__deadline *d, int64_t at_ns)
{
	int ms = pw__ms_until(at_ns), left = pw__deadline_ms(d);

	return left >= 0 && (ms < 0 || left < ms) ? left : ms;
}

void pw__sleep_ns(int64_t ns, const pw__deadline *d)
{
	int64_t left = pw__deadline_ns(d);
	struct timespec ts;

	if (ns > left)
		ns = left;
	if (ns <= 0)
		return;
#ifdef HAVE_WIN32_BACKEND
	(void)ts;
	Sleep((DWORD)((ns + 999999) / 1000000));   /* rounded up to whole ms */
#else
	ts.tv_sec = (time_t)(ns / 1000000000LL);
	ts.tv_nsec = (long)(ns % 1000000000LL);
	/* EINTR simply ends the nap: the caller re-checks and recomputes. */
	nanosleep(&ts, NULL);
#endif
}
