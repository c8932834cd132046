/* ClusWorkerCreate, ClusWorkerCheckTerminate, ClusWorkerTerminate (resapi.h): a pending Online
 * or Offline does its work on a CLUS_WORKER thread that polls ClusWorkerCheckTerminate, and
 * ClusWorkerTerminate sets Terminate, waits for the thread and closes its handle (hThread is
 * then NULL, so the structure may start a worker again). rescheck refuses a CLUS_WORKER whose
 * hThread is set (ERROR_INVALID_PARAMETER, with why: ClusWorker.fresh-structure judges it);
 * Windows leaves that undefined. As conformance/resutils/workers.py. */
#include <stdlib.h>

#include "internal.h"

typedef struct {
    PCLUS_WORKER worker;
    PWORKER_START_ROUTINE start;
    PVOID parameter;
} start_block;

static DWORD WINAPI run_worker(LPVOID argument) {
    start_block block = *(start_block *)argument;
    free(argument);
    return block.start(block.worker, block.parameter);
}

DWORD WINAPI ClusWorkerCreate(PCLUS_WORKER lpWorker, PWORKER_START_ROUTINE lpStartAddress,
                              PVOID lpParameter) {
    static const char *function = "ClusWorkerCreate";
    if (!lpWorker || !lpStartAddress) {
        note_call(function, ERROR_INVALID_PARAMETER, "no CLUS_WORKER or no start routine");
        return ERROR_INVALID_PARAMETER;
    }
    if (lpWorker->hThread) {
        note_call(function, ERROR_INVALID_PARAMETER,
                  "the CLUS_WORKER was used before (its hThread is set); pass a zero-initialised "
                  "CLUS_WORKER, or one ClusWorkerTerminate has ended");
        return ERROR_INVALID_PARAMETER;
    }
    start_block *block = malloc(sizeof *block);
    if (!block) {
        note_call(function, ERROR_NOT_ENOUGH_MEMORY, NULL);
        return ERROR_NOT_ENOUGH_MEMORY;
    }
    block->worker = lpWorker;
    block->start = lpStartAddress;
    block->parameter = lpParameter;
    lpWorker->Terminate = FALSE;
    /* suspended, so that hThread is set before the routine can read it */
    HANDLE thread = CreateThread(NULL, 0, run_worker, block, CREATE_SUSPENDED, NULL);
    if (!thread) {
        DWORD error = GetLastError();
        free(block);
        note_call(function, error, NULL);
        return error;
    }
    lpWorker->hThread = thread;
    note_call(function, ERROR_SUCCESS, NULL);
    ResumeThread(thread);
    return ERROR_SUCCESS;
}

BOOL WINAPI ClusWorkerCheckTerminate(PCLUS_WORKER lpWorker) {
    BOOL stop = lpWorker ? lpWorker->Terminate : TRUE;
    /* only the answer that ends the worker is noted: a worker polls in a loop */
    if (stop) note_call("ClusWorkerCheckTerminate", TRUE, lpWorker ? NULL : "no CLUS_WORKER");
    return stop;
}

VOID WINAPI ClusWorkerTerminate(PCLUS_WORKER lpWorker) {
    static const char *function = "ClusWorkerTerminate";
    if (!lpWorker) {
        note_call(function, ERROR_INVALID_PARAMETER, "no CLUS_WORKER");
        return;
    }
    lpWorker->Terminate = TRUE;
    HANDLE thread = lpWorker->hThread;
    if (!thread) {
        note_call(function, ERROR_SUCCESS, NULL); /* no worker: nothing to wait for */
        return;
    }
    if (GetThreadId(thread) == GetCurrentThreadId()) {
        /* the worker itself: it cannot wait for its own end; a later call from another
         * thread waits and closes the handle */
        note_call(function, ERROR_SUCCESS, NULL);
        return;
    }
    /* one caller takes the handle: it waits and closes it; a concurrent caller returns */
    if (InterlockedCompareExchangePointer(&lpWorker->hThread, NULL, thread) != thread) {
        note_call(function, ERROR_SUCCESS, NULL);
        return;
    }
    DWORD waited = WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    note_call(function, waited == WAIT_OBJECT_0 ? ERROR_SUCCESS : GetLastError(), NULL);
}
