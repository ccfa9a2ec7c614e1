/* SPDX-License-Identifier: MIT */
#include "internal.h"

PROCWAIT_EXTERN unsigned procwait_version(void)
{
	return PROCWAIT_VERSION_HEX;
}

PROCWAIT_EXTERN const char *procwait_version_string(void)
{
	return PROCWAIT_VERSION_STRING;
}
