/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The places where the kernels we build for (Debian 12: 6.1 and 6.12)
 * differ in what these modules use.  Keep every version test here, so
 * the module sources stay free of them.
 */
#ifndef _NF_FTP_COMPAT_H
#define _NF_FTP_COMPAT_H

#include <linux/version.h>

#endif /* _NF_FTP_COMPAT_H */
