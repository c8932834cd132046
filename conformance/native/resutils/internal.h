/* rescheck's own resutils.dll: the Resource Utility functions published resource DLLs use
 * most (resapi.h). Values go through rescheck's clusapi.dll (ClusterReg*, imported as a DLL
 * would), so the database sees them as ClusterDatabaseAccess notes; every call is also a
 * ResUtil note (docs/host-protocol.md). One concern per file: link.c (the channel and its
 * notes), workers.c (ClusWorker*), values.c (ResUtilGet/Set*Value),
 * parameters.c (parameter blocks of a RESUTIL_PROPERTY_ITEM table). */
#ifndef RESCHECK_RESUTILS_INTERNAL_H
#define RESCHECK_RESUTILS_INTERNAL_H
#include "../host/mpack.h"
#include "../include/rescheck_link.h"

#define STRING_LIMIT 65536 /* characters of a string value, as clusapi.dll carries them */

/* link.c: a ResUtil note (function, result, why: nil or why rescheck refused the call) */
void note_call(const char *function, DWORD result, const char *why);

/* values.c: a REG_SZ or REG_EXPAND_SZ value, LocalAlloc'd into *out (NULL on failure; *why:
 * NULL, or why rescheck refused it), without a note */
DWORD read_string(HKEY key, LPCWSTR name, LPWSTR *out, const char **why);
#endif
