/* SPDX-License-Identifier: MIT */
/**
 * @file procwait.h
 * @brief The one header to include: `#include <procwait/procwait.h>`.
 */
#ifndef PROCWAIT_PROCWAIT_H
#define PROCWAIT_PROCWAIT_H

#include <procwait/common.h>
#include <procwait/version.h>
#include <procwait/error.h>
#include <procwait/wait.h>
#include <procwait/proc.h>
#include <procwait/waitset.h>
#include <procwait/procinfo.h>
#include <procwait/forkserver.h>
#include <procwait/supervisor.h>

#endif /* PROCWAIT_PROCWAIT_H */
