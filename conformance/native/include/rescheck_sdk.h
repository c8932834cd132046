/* Force-included before every C file of rescheck's native side (-include rescheck_sdk.h):
 * mingw-w64 10's clusapi.h and resapi.h do not compile as shipped (with _WIN32_WINNT >=
 * 0x0600 clusapi.h declares CLUSTER_RESOURCE_STATE twice; with 0x0502 resapi.h needs
 * PCLUSPROP_FILETIME, which clusapi.h defines only for >= 0x0600). This sets 0x0502 and
 * supplies the one missing struct, so that sources written against the Windows SDK build
 * unchanged. */
#ifndef RESCHECK_SDK_H
#define RESCHECK_SDK_H
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0502
#endif
#include <windows.h>
#include <clusapi.h>
typedef struct CLUSPROP_FILETIME {
    DWORD Syntax;
    DWORD cbLength;
    FILETIME ft;
} CLUSPROP_FILETIME, *PCLUSPROP_FILETIME;
#include <resapi.h>
#endif
