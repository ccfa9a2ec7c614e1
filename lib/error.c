/* SPDX-License-Identifier: MIT */
/* Error names and messages: procwait_strerror(), procwait_errname(). */
#include "internal.h"

#include <stdio.h>

/* Our own table rather than strerror(): thread-safe, identical on every
 * platform, and it can carry library-specific codes. */
#define PW_ERRNO_TABLE(X) \
	X(EPERM, "Operation not permitted") \
	X(ENOENT, "No such file or directory") \
	X(ESRCH, "No such process") \
	X(EINTR, "Interrupted system call") \
	X(EIO, "Input/output error") \
	X(ENXIO, "No such device or address") \
	X(E2BIG, "Argument list too long") \
	X(ENOEXEC, "Exec format error") \
	X(EBADF, "Bad file descriptor") \
	X(ECHILD, "No child processes") \
	X(EAGAIN, "Resource temporarily unavailable") \
	X(ENOMEM, "Cannot allocate memory") \
	X(EACCES, "Permission denied") \
	X(EFAULT, "Bad address") \
	X(EBUSY, "Device or resource busy") \
	X(EEXIST, "File exists") \
	X(ENODEV, "No such device") \
	X(ENOTDIR, "Not a directory") \
	X(EISDIR, "Is a directory") \
	X(EINVAL, "Invalid argument") \
	X(ENFILE, "Too many open files in system") \
	X(EMFILE, "Too many open files") \
	X(ENOTTY, "Inappropriate ioctl for device") \
	X(ETXTBSY, "Text file busy") \
	X(EFBIG, "File too large") \
	X(ENOSPC, "No space left on device") \
	X(ESPIPE, "Illegal seek") \
	X(EROFS, "Read-only file system") \
	X(EPIPE, "Broken pipe") \
	X(EDOM, "Numerical argument out of domain") \
	X(ERANGE, "Numerical result out of range") \
	X(EDEADLK, "Resource deadlock avoided") \
	X(ENAMETOOLONG, "File name too long") \
	X(ENOSYS, "Function not implemented") \
	X(ELOOP, "Too many levels of symbolic links") \
	X(ENODATA, "No data available") \
	X(EOVERFLOW, "Value too large for defined data type") \
	X(EPROTO, "Protocol error") \
	X(EBADMSG, "Bad message") \
	X(EMSGSIZE, "Message too long") \
	X(ENOTSUP, "Operation not supported") \
	X(EPROTONOSUPPORT, "Protocol not supported") \
	X(EPROTOTYPE, "Protocol wrong type for socket") \
	X(ENOTSOCK, "Socket operation on non-socket") \
	X(EADDRINUSE, "Address already in use") \
	X(EALREADY, "Operation already in progress") \
	X(ECONNREFUSED, "Connection refused") \
	X(ECONNRESET, "Connection reset by peer") \
	X(ETIMEDOUT, "Timed out") \
	X(ECANCELED, "Operation canceled") \
	X(PROCWAIT_EZOMBIE, "Process is a zombie")

struct pw__errinfo {
	int code;
	const char *name;
	const char *msg;
};

#define PW_ERRNO_ENTRY(e, m) { e, #e, m },
static const struct pw__errinfo pw__errtab[] = {
	PW_ERRNO_TABLE(PW_ERRNO_ENTRY)
#ifdef ESHUTDOWN   /* not on Windows, where nothing of ours returns it */
	PW_ERRNO_ENTRY(ESHUTDOWN, "Cannot send after transport endpoint shutdown")
#endif
};

static const struct pw__errinfo *lookup(int err)
{
	size_t i;

	if (err < 0 && err > PROCWAIT_ERROR_BASE)
		err = -err;   /* -errno; library codes are looked up as they are */
	for (i = 0; i < sizeof(pw__errtab) / sizeof(pw__errtab[0]); i++)
		if (pw__errtab[i].code == err)
			return &pw__errtab[i];
	return NULL;
}

PROCWAIT_EXTERN const char *procwait_strerror(int err)
{
	static _Thread_local char buf[48];
	const struct pw__errinfo *e = lookup(err);

	if (e)
		return e->msg;
	if (err == 0)
		return "Success";
	snprintf(buf, sizeof(buf), "Unknown error %d", err);
	return buf;
}

PROCWAIT_EXTERN const char *procwait_errname(int err)
{
	const struct pw__errinfo *e = lookup(err);

	return e ? e->name : NULL;
}
