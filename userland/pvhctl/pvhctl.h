/* SPDX-License-Identifier: Apache-2.0 */
/* pvhctl.h: the parts of pvhctl in files of their own. */
#ifndef USERLAND_PVHCTL_H
#define USERLAND_PVHCTL_H

#include <stdbool.h>
#include <stdint.h>

/* pvhctl api [--socket PATH] METHOD PATH [BODY|@FILE] (argv[0] is "api"): the exit status. */
int api_main(int argc, char **argv);

#endif
