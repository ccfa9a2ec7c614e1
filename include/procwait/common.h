/* SPDX-License-Identifier: MIT */
/**
 * @file common.h
 * @brief Export macro and the basic types shared by every procwait header.
 *
 * Users include <procwait/procwait.h>, which includes this file.
 */
#ifndef PROCWAIT_COMMON_H
#define PROCWAIT_COMMON_H

#include <sys/types.h>

/* On Windows a program linking the static library (libprocwait.a) defines
 * PROCWAIT_STATIC (pkg-config --static --cflags procwait says so); one
 * linking the DLL does not. */
#if defined(_WIN32) || defined(__CYGWIN__)
#  if defined(PROCWAIT_BUILDING) && defined(DLL_EXPORT)
#    define PROCWAIT_EXTERN __declspec(dllexport)
#  elif defined(PROCWAIT_BUILDING) || defined(PROCWAIT_STATIC)
#    define PROCWAIT_EXTERN
#  else
#    define PROCWAIT_EXTERN __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define PROCWAIT_EXTERN __attribute__((visibility("default")))
#else
#  define PROCWAIT_EXTERN
#endif

#ifdef __cplusplus
#  define PROCWAIT_BEGIN_DECLS extern "C" {
#  define PROCWAIT_END_DECLS }
#else
#  define PROCWAIT_BEGIN_DECLS
#  define PROCWAIT_END_DECLS
#endif

#endif /* PROCWAIT_COMMON_H */
