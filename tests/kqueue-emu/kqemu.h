/* SPDX-License-Identifier: MIT */
/* Test-only knobs of the Linux kqueue emulation (tests/kqueue-emu). Only
 * tests include this; the library sees nothing but <sys/event.h>. */
#ifndef KQEMU_H
#define KQEMU_H

#include <sys/types.h>

/* The next EVFILT_PROC registration of pid (in any kqueue) reports
 * NOTE_EXIT at once, with data 0, although the process still runs -- as
 * NOTE_EXIT can fire before waitpid(WNOHANG) can reap on real systems.
 * One-shot: the next successful registration of pid consumes the mark. */
void kqemu_early_exit(pid_t pid);

/* The number of live EVFILT_PROC registrations over all kqueues. */
int kqemu_registrations(void);

#endif
