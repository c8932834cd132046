/* The functions of the Windows SDK that rescheck's clusapi.dll and resutils.dll export but do
 * not provide yet (each DLL's unprovided.h lists them, with the answer its signature allows):
 * a DLL that imports one loads, and a call answers ERROR_CALL_NOT_IMPLEMENTED as the SDK's
 * signature can say it (DWORD or LONG: the status; a handle or pointer: NULL, a BOOL: FALSE, a
 * state enum: its Unknown value (-1), an enumerator count: 0, each with SetLastError; VOID:
 * nothing), and tells the monitor in a ResUtil note (result ERROR_CALL_NOT_IMPLEMENTED, why),
 * whose context names the entry point that was running, so the run can say which verdicts
 * rest on the stub's answer (docs/host-protocol.md). The first UNPROVIDED_NOTES calls of each
 * function are noted, the rest only answered.
 *
 * x64 only, as rescheck is: one calling convention, in which the caller owns the stack and the
 * result travels in RAX, so a stub that takes no parameters is a sound definition of any of
 * these signatures. It is exported under the SDK's name (the asm label), while its C name
 * stays apart from the SDK header's prototype. */
#ifndef RESCHECK_UNPROVIDED_H
#define RESCHECK_UNPROVIDED_H
#include <stdio.h>
#include <windows.h>

#define UNPROVIDED_NOTES 8
#define UNPROVIDED_WHY 160 /* characters of the note's why: the name is an SDK name (< 64) */

enum { ANSWER_STATUS, ANSWER_NULL, ANSWER_FALSE, ANSWER_UNKNOWN, ANSWER_ZERO, ANSWER_NOTHING };

/* the DLL's ResUtil note (link.c) */
void note_call(const char *function, DWORD result, const char *why);

static inline ULONG_PTR unprovided_answer(const char *function, int answer, LONG *calls) {
    if (InterlockedIncrement(calls) <= UNPROVIDED_NOTES) {
        char why[UNPROVIDED_WHY];
        snprintf(why, sizeof why, "rescheck does not provide %s yet", function);
        note_call(function, ERROR_CALL_NOT_IMPLEMENTED, why);
    }
    if (answer == ANSWER_STATUS) return ERROR_CALL_NOT_IMPLEMENTED;
    if (answer != ANSWER_NOTHING) SetLastError(ERROR_CALL_NOT_IMPLEMENTED);
    return answer == ANSWER_UNKNOWN ? (ULONG_PTR)-1 : 0;
}

#define UNPROVIDED(answer, name)                                                            \
    __declspec(dllexport) ULONG_PTR WINAPI unprovided_##name(void) __asm__(#name);          \
    ULONG_PTR WINAPI unprovided_##name(void) {                                              \
        static LONG calls;                                                                  \
        return unprovided_answer(#name, answer, &calls);                                    \
    }
#endif
