/* process_app.c: the "Process App" resource type, a compiled twin of
 * reference_impls/process_app.py, written against the Windows SDK (windows.h, clusapi.h,
 * resapi.h).
 *
 * Each instance runs one real process: sleeper.exe (sleeper.c), found in the directory this
 * DLL was loaded from. Like Generic Application, Online starts it and Offline stops it; the
 * two share a pair of named events with it: BASE.ready (the process runs its own code, so
 * Online is done) and BASE.quit (Offline asks it to exit on its own; Terminate kills it).
 * process_app_companion.py finds that process from outside (rescheck's probe and breaker).
 *
 * Build: the DLL with conformance.native.build.build_dll (into DIR/process_app.dll), and
 * sleeper.exe beside it:
 *   x86_64-w64-mingw32-gcc -O2 -municode -mwindows -o DIR/sleeper.exe .../sleeper.c
 * Without sleeper.exe, Online fails (ClusterResourceFailed) and says why in the log.
 *
 * Imports: kernel32 and msvcrt only. rescheck provides no resutils.dll or clusapi.dll yet, so
 * the workers are plain CreateThread threads (not ClusWorkerCreate), and the type has no
 * private properties (they would need ClusterRegQueryValue and the ResUtil property tables).
 * The type name given to Startup is not checked (ST-9 is only the documented example's
 * convention), so any name loads it.
 *
 * Threads. Online and Offline are pending operations (PO-2): each starts a worker and
 * returns ERROR_IO_PENDING at once. Terminate may overlap Online, Offline, LooksAlive,
 * IsAlive and the control routines (TE-4), so every field a worker and an entry point share
 * is guarded by the instance's CRITICAL_SECTION, which is never held across a callback or a
 * blocking wait. The rules that keep workers and Terminate apart, as in process_app.py:
 *   - a worker acts (stores a process, reports a status) only while it is still the
 *     instance's current worker, checked under the lock;
 *   - retiring a worker (Terminate, Close, or the next Online/Offline) detaches it under the
 *     lock, sets its Stop event (its waits end at once) and joins it, so when Terminate
 *     returns no worker of the instance runs and none reports again (RS-2, CX-4);
 *   - Terminate counts itself under the lock, and an Online or Offline that a Terminate
 *     overlapped starts nothing (it returns ERROR_OPERATION_ABORTED);
 *   - the process is killed only after its worker was joined, so no worker waits on a
 *     handle that was closed under it.
 */
#include <windows.h>
#include <clusapi.h>
#include <resapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

/* The resource type this DLL implements: Startup refuses any other (ST-9). */
#define RESOURCE_TYPE_NAME L"Process App"

/* The program each instance runs, beside this DLL (-DSLEEPER_NAME=L"..." to change it). */
#ifndef SLEEPER_NAME
#define SLEEPER_NAME L"sleeper.exe"
#endif

/* A worker's longest wait: Terminate joins the worker, and must return within 300 ms (TE-5);
 * it also spaces the OnlinePending/OfflinePending reports. */
#define POLL_MS 50
/* How long Online waits for the process to signal BASE.ready. */
#define START_TIMEOUT_MS 5000
/* How long Offline lets the process exit on BASE.quit before it is terminated (OF-3). */
#define OFFLINE_GRACE_MS 3000
/* How long to wait for a terminated process to be gone. */
#define REAP_MS 200
/* The exit code a terminated process gets. */
#define KILLED_EXIT_CODE 1

/* Bounds of every buffer. */
#define NAME_CHARS 256    /* the resource name kept (longer names are cut) */
#define PATH_CHARS 1024   /* sleeper.exe's full path */
#define EVENT_CHARS 96    /* an event's name */
#define COMMAND_CHARS (PATH_CHARS + EVENT_CHARS + NAME_CHARS + 32)
/* How much of a path a log line shows: entries stay short (the cluster log keeps 500 characters
 * of each, LG-3). */
#define LOGGED_CHARS 160

/* One run of the application: the process and the events it shares with the DLL. */
typedef struct APP_PROCESS {
    HANDLE Process; /* NULL: no process */
    HANDLE Ready;   /* set by the process once it runs */
    HANDLE Quit;    /* set by Offline: exit now, please */
    DWORD ProcessId;
} APP_PROCESS;

typedef struct APP_WORKER APP_WORKER;

/* Per-instance data (DS-3); its address is the RESID (ID-1). */
typedef struct APP_RESOURCE {
    /* The RESID itself: how a RESID is recognised (the SDK sample's check). */
    RESID ResId;
    /* Only ever passed back to SetResourceStatus and LogEvent (OP-3). */
    RESOURCE_HANDLE ResourceHandle;
    /* On the process's command line, to tell the processes apart in a process list. */
    WCHAR Name[NAME_CHARS];
    CRITICAL_SECTION Lock; /* guards the fields below */
    APP_WORKER *Worker;    /* the current worker, NULL when none */
    APP_PROCESS App;       /* the running process, App.Process NULL when none */
    DWORD Terminations;    /* Terminate calls so far (see StartOperation) */
} APP_RESOURCE;

/* A pending operation's thread. Only whoever detaches it from APP_RESOURCE.Worker frees it. */
struct APP_WORKER {
    APP_RESOURCE *Resource;
    HANDLE Thread;
    HANDLE Stop;       /* manual-reset, set when the worker is retired: its waits end at once */
    DWORD CheckPoint;  /* the last CheckPoint reported; each report raises it by one (RS-5) */
};

/* The callbacks from Startup: one stored copy of each for the whole DLL (ST-4, DS-2). */
static PSET_RESOURCE_STATUS_ROUTINE g_SetResourceStatus;
static PLOG_EVENT_ROUTINE g_LogEvent;
/* This DLL's module, to find sleeper.exe beside it. */
static HMODULE g_Module;
/* Numbers the processes started, so each run's event names are new. */
static volatile LONG g_Runs;

/* --- small helpers ------------------------------------------------------------------------ */

/* _vsnwprintf into a buffer of COUNT characters; FALSE (and an empty string) if it does not
 * fit, since msvcrt's version then leaves the buffer unterminated. */
static BOOL Format(WCHAR *out, size_t count, LPCWSTR format, ...)
{
    va_list args;
    va_start(args, format);
    int written = _vsnwprintf(out, count, format, args);
    va_end(args);
    if (written < 0 || (size_t)written >= count) {
        out[0] = L'\0';
        return FALSE;
    }
    return TRUE;
}

static void CloseIf(HANDLE *handle)
{
    if (*handle) CloseHandle(*handle);
    *handle = NULL;
}

static APP_RESOURCE *Lookup(RESID ResourceId)
{
    APP_RESOURCE *resource = ResourceId;
    return resource && resource->ResId == ResourceId ? resource : NULL;
}

/* --- the process -------------------------------------------------------------------------- */

/* sleeper.exe's full path: this DLL's directory and SLEEPER_NAME. */
static DWORD SleeperPath(WCHAR *path, DWORD count)
{
    DWORD length = GetModuleFileNameW(g_Module, path, count);
    if (length == 0) return GetLastError();
    if (length >= count) return ERROR_INSUFFICIENT_BUFFER; /* the path was cut */
    WCHAR *slash = wcsrchr(path, L'\\');
    size_t directory = slash ? (size_t)(slash - path) + 1 : 0;
    if (directory + wcslen(SLEEPER_NAME) >= count) return ERROR_INSUFFICIENT_BUFFER;
    wcscpy(path + directory, SLEEPER_NAME);
    return ERROR_SUCCESS;
}

/* A new manual-reset event named BASE followed by SUFFIX. */
static HANDLE CreateSuffixedEvent(LPCWSTR base, LPCWSTR suffix)
{
    WCHAR name[EVENT_CHARS];
    if (!Format(name, EVENT_CHARS, L"%ws%ws", base, suffix)) {
        SetLastError(ERROR_INSUFFICIENT_BUFFER);
        return NULL;
    }
    HANDLE event = CreateEventW(NULL, TRUE, FALSE, name);
    if (event && GetLastError() == ERROR_ALREADY_EXISTS) {
        CloseHandle(event); /* someone else's: its state says nothing about our process */
        SetLastError(ERROR_ALREADY_EXISTS);
        return NULL;
    }
    return event;
}

static void CloseApp(APP_PROCESS *app)
{
    CloseIf(&app->Process);
    CloseIf(&app->Ready);
    CloseIf(&app->Quit);
    app->ProcessId = 0;
}

/* NAME as one quoted command-line argument: '"' and '\\' (which would end or escape the
 * quotes) become '_'. The companion's probe finds the process by it. */
static void QuotableName(WCHAR *out, LPCWSTR name)
{
    lstrcpynW(out, name, NAME_CHARS);
    for (WCHAR *c = out; *c; c++)
        if (*c == L'"' || *c == L'\\') *c = L'_';
}

/* Start sleeper.exe with a fresh pair of events, for the instance NAME; PROGRAM receives its
 * path (for the log). */
static DWORD LaunchApp(APP_PROCESS *app, LPCWSTR name, WCHAR *program)
{
    WCHAR base[EVENT_CHARS], label[NAME_CHARS], command[COMMAND_CHARS];
    STARTUPINFOW startup = {.cb = sizeof startup};
    PROCESS_INFORMATION info;
    DWORD status = SleeperPath(program, PATH_CHARS);
    if (status != ERROR_SUCCESS) return status;
    Format(base, EVENT_CHARS, L"Local\\rescheck-process-app-%lu-%ld", GetCurrentProcessId(),
           InterlockedIncrement(&g_Runs)); /* always fits */
    app->Ready = CreateSuffixedEvent(base, L".ready");
    app->Quit = app->Ready ? CreateSuffixedEvent(base, L".quit") : NULL;
    if (!app->Quit) {
        status = GetLastError();
        CloseApp(app);
        return status;
    }
    QuotableName(label, name);
    if (!Format(command, COMMAND_CHARS, L"\"%ws\" %ws %lu \"%ws\"", program, base,
                GetCurrentProcessId(), label)) {
        CloseApp(app);
        return ERROR_INSUFFICIENT_BUFFER;
    }
    /* No handles inherited: the process learns everything from its command line. */
    if (!CreateProcessW(program, command, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL,
                        &startup, &info)) {
        status = GetLastError();
        CloseApp(app);
        return status;
    }
    CloseHandle(info.hThread);
    app->Process = info.hProcess;
    app->ProcessId = info.dwProcessId;
    return ERROR_SUCCESS;
}

static BOOL AppRuns(const APP_PROCESS *app)
{
    return app->Process && WaitForSingleObject(app->Process, 0) == WAIT_TIMEOUT;
}

/* Terminate the process unless it already ended, wait for it, close every handle. Returns
 * its exit code, or STILL_ACTIVE if it did not end within REAP_MS. */
static DWORD EndApp(APP_PROCESS *app)
{
    DWORD code = STILL_ACTIVE;
    if (app->Process) {
        if (AppRuns(app)) TerminateProcess(app->Process, KILLED_EXIT_CODE);
        if (WaitForSingleObject(app->Process, REAP_MS) != WAIT_OBJECT_0 ||
            !GetExitCodeProcess(app->Process, &code))
            code = STILL_ACTIVE;
    }
    CloseApp(app);
    return code;
}

/* --- workers ------------------------------------------------------------------------------ */

/* TRUE when WORKER must stop: it was retired (Terminate, Close, or the next operation). */
static BOOL IsStale(APP_WORKER *worker)
{
    APP_RESOURCE *resource = worker->Resource;
    EnterCriticalSection(&resource->Lock);
    BOOL stale = resource->Worker != worker;
    LeaveCriticalSection(&resource->Lock);
    return stale;
}

/* Wait on HANDLES (up to two) and on the worker's Stop event for at most MS. Returns the index
 * in HANDLES of the one that was signalled, COUNT on a timeout, or -1: stop now. */
static int Await(APP_WORKER *worker, const HANDLE *handles, DWORD count, DWORD ms)
{
    HANDLE waits[3] = {worker->Stop};
    for (DWORD i = 0; i < count && i < 2; i++) waits[i + 1] = handles[i];
    DWORD which = WaitForMultipleObjects(count + 1, waits, FALSE, ms);
    if (which == WAIT_OBJECT_0 || which == WAIT_FAILED || IsStale(worker)) return -1;
    return which == WAIT_TIMEOUT ? (int)count : (int)(which - WAIT_OBJECT_0 - 1);
}

/* One status report, with the next CheckPoint. FALSE: stop now (the worker was retired, or
 * SetResourceStatus answered ResourceExitStateTerminate, RS-2). */
static BOOL Report(APP_WORKER *worker, CLUSTER_RESOURCE_STATE state)
{
    RESOURCE_STATUS status;
    if (IsStale(worker)) return FALSE;
    ResUtilInitializeResourceStatus(&status);
    status.ResourceState = state;
    status.CheckPoint = ++worker->CheckPoint;
    return g_SetResourceStatus(worker->Resource->ResourceHandle, &status) !=
           ResourceExitStateTerminate;
}

/* Hand the instance's process to the worker (it then owns the handles); FALSE if the worker
 * was retired meanwhile, and then whoever retired it takes the process. */
static BOOL TakeApp(APP_WORKER *worker, APP_PROCESS *app)
{
    APP_RESOURCE *resource = worker->Resource;
    EnterCriticalSection(&resource->Lock);
    BOOL current = resource->Worker == worker;
    if (current) {
        *app = resource->App;
        ZeroMemory(&resource->App, sizeof resource->App);
    }
    LeaveCriticalSection(&resource->Lock);
    return current;
}

/* Online failed: take the process from the instance and end it. FALSE if the worker was
 * retired meanwhile (then it must neither log nor report); CODE receives the exit code. */
static BOOL EndOwnApp(APP_WORKER *worker, DWORD *id, DWORD *code)
{
    APP_PROCESS app;
    if (!TakeApp(worker, &app)) return FALSE;
    *id = app.ProcessId;
    *code = EndApp(&app);
    return TRUE;
}

/* Start the process and make it the instance's, unless the worker was retired meanwhile (then
 * it ends the process itself: ERROR_OPERATION_ABORTED). */
static DWORD StartApp(APP_WORKER *worker, APP_PROCESS *app)
{
    APP_RESOURCE *resource = worker->Resource;
    APP_PROCESS leftover = {0};
    WCHAR program[PATH_CHARS] = L"";
    DWORD status = LaunchApp(app, resource->Name, program);
    if (status != ERROR_SUCCESS) {
        if (!IsStale(worker))
            g_LogEvent(resource->ResourceHandle, LOG_ERROR,
                       L"Online failed: cannot start %.*ws (error %u); it is built from "
                       L"sleeper.c and belongs beside this DLL\n",
                       LOGGED_CHARS, program, status);
        return status;
    }
    EnterCriticalSection(&resource->Lock);
    BOOL current = resource->Worker == worker;
    if (current) {
        leftover = resource->App; /* none, unless an earlier run was never stopped */
        resource->App = *app;
    }
    LeaveCriticalSection(&resource->Lock);
    EndApp(&leftover);
    if (!current) {
        EndApp(app);
        return ERROR_OPERATION_ABORTED;
    }
    g_LogEvent(resource->ResourceHandle, LOG_INFORMATION, L"process %u started: %.*ws\n",
               app->ProcessId, LOGGED_CHARS, program);
    return ERROR_SUCCESS;
}

/* The process exited before it was ready, or was not ready in time: end it, log why (at
 * LOG_ERROR), report ClusterResourceFailed. */
static DWORD FailStart(APP_WORKER *worker, BOOL exited)
{
    HANDLE handle = worker->Resource->ResourceHandle;
    DWORD id, code, error = exited ? ERROR_PROCESS_ABORTED : ERROR_TIMEOUT;
    if (!EndOwnApp(worker, &id, &code)) return error;
    if (exited)
        g_LogEvent(handle, LOG_ERROR,
                   L"Online failed: process %u exited with code %u before it was ready "
                   L"(error %u)\n",
                   id, code, error);
    else
        g_LogEvent(handle, LOG_ERROR,
                   L"Online failed: process %u was not ready within %u ms (error %u)\n", id,
                   START_TIMEOUT_MS, error);
    Report(worker, ClusterResourceFailed);
    return error;
}

/* Online's worker: OnlinePending, start the process, OnlinePending every POLL_MS until it
 * signals BASE.ready (Online), exits or times out (Failed). */
static DWORD WINAPI OnlineWorker(LPVOID parameter)
{
    APP_WORKER *worker = parameter;
    APP_PROCESS app = {0}; /* the handles stay the instance's: Terminate joins us first */
    /* A first pause, so the first report follows Online's ERROR_IO_PENDING (PO-4). */
    if (Await(worker, NULL, 0, POLL_MS) < 0 || !Report(worker, ClusterResourceOnlinePending))
        return ERROR_SUCCESS;
    DWORD status = StartApp(worker, &app);
    if (status != ERROR_SUCCESS) {
        Report(worker, ClusterResourceFailed); /* nothing to end; no report if retired */
        return status;
    }
    if (!Report(worker, ClusterResourceOnlinePending)) return ERROR_SUCCESS;
    HANDLE handles[2] = {app.Ready, app.Process};
    for (DWORD waited = 0;; waited += POLL_MS) {
        int which = Await(worker, handles, 2, POLL_MS);
        if (which < 0) return ERROR_SUCCESS;
        if (which == 0) break;
        if (which == 1 || waited >= START_TIMEOUT_MS) return FailStart(worker, which == 1);
        if (!Report(worker, ClusterResourceOnlinePending)) return ERROR_SUCCESS;
    }
    if (IsStale(worker)) return ERROR_SUCCESS;
    g_LogEvent(worker->Resource->ResourceHandle, LOG_INFORMATION,
               L"process %u is ready: online\n", app.ProcessId);
    Report(worker, ClusterResourceOnline);
    return ERROR_SUCCESS;
}

/* Offline's worker: set BASE.quit, OfflinePending every POLL_MS while the process exits,
 * terminate it after OFFLINE_GRACE_MS (OF-3), then Offline. */
static DWORD WINAPI OfflineWorker(LPVOID parameter)
{
    APP_WORKER *worker = parameter;
    APP_RESOURCE *resource = worker->Resource;
    EnterCriticalSection(&resource->Lock);
    APP_PROCESS app = resource->App; /* a copy: the instance still owns the handles */
    LeaveCriticalSection(&resource->Lock);
    if (app.Quit) SetEvent(app.Quit);
    for (DWORD waited = POLL_MS;; waited += POLL_MS) {
        int which = Await(worker, &app.Process, app.Process ? 1 : 0, POLL_MS);
        if (which < 0) return ERROR_SUCCESS;
        if (!AppRuns(&app) || waited >= OFFLINE_GRACE_MS) break;
        if (!Report(worker, ClusterResourceOfflinePending)) return ERROR_SUCCESS;
    }
    if (!TakeApp(worker, &app)) return ERROR_SUCCESS;
    DWORD id = app.ProcessId;
    BOOL had = app.Process != NULL;
    DWORD code = EndApp(&app);
    if (had)
        g_LogEvent(resource->ResourceHandle, LOG_INFORMATION,
                   L"process %u ended with exit code %u: offline\n", id, code);
    else
        g_LogEvent(resource->ResourceHandle, LOG_INFORMATION, L"no process runs: offline\n");
    Report(worker, ClusterResourceOffline);
    return ERROR_SUCCESS;
}

/* A worker for ROUTINE, its thread created suspended: nothing runs before it is published. */
static DWORD NewWorker(APP_RESOURCE *resource, LPTHREAD_START_ROUTINE routine, APP_WORKER **out)
{
    APP_WORKER *worker = calloc(1, sizeof *worker);
    if (!worker) return ERROR_NOT_ENOUGH_MEMORY;
    worker->Resource = resource;
    worker->Stop = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (worker->Stop)
        worker->Thread = CreateThread(NULL, 0, routine, worker, CREATE_SUSPENDED, NULL);
    if (!worker->Thread) {
        DWORD status = GetLastError();
        CloseIf(&worker->Stop);
        free(worker);
        return status;
    }
    *out = worker;
    return ERROR_SUCCESS;
}

/* End a worker that is no longer the instance's (or never was): stop, join, free. */
static void DiscardWorker(APP_WORKER *worker)
{
    SetEvent(worker->Stop);
    ResumeThread(worker->Thread); /* in case it was never started */
    WaitForSingleObject(worker->Thread, INFINITE);
    CloseIf(&worker->Thread);
    CloseIf(&worker->Stop);
    free(worker);
}

/* Detach the current worker under the lock (so only one caller gets it), then end it. */
static void RetireWorker(APP_RESOURCE *resource)
{
    EnterCriticalSection(&resource->Lock);
    APP_WORKER *worker = resource->Worker;
    resource->Worker = NULL;
    LeaveCriticalSection(&resource->Lock);
    if (worker) DiscardWorker(worker);
}

/* Online and Offline: end the previous worker (it may still be returning from its last
 * report), then publish a new one, unless a Terminate overlapped this call. */
static DWORD StartOperation(APP_RESOURCE *resource, LPTHREAD_START_ROUTINE routine)
{
    APP_WORKER *worker = NULL;
    EnterCriticalSection(&resource->Lock);
    DWORD terminations = resource->Terminations;
    LeaveCriticalSection(&resource->Lock);
    RetireWorker(resource);
    DWORD status = NewWorker(resource, routine, &worker);
    if (status != ERROR_SUCCESS) return status;
    EnterCriticalSection(&resource->Lock);
    BOOL publish = resource->Terminations == terminations;
    if (publish) {
        resource->Worker = worker;
        ResumeThread(worker->Thread);
    }
    LeaveCriticalSection(&resource->Lock);
    if (!publish) {
        DiscardWorker(worker);
        return ERROR_OPERATION_ABORTED;
    }
    return ERROR_IO_PENDING;
}

/* Terminate's work, also Close's: no worker left, no process left. */
static void TerminateResource(APP_RESOURCE *resource, LPCWSTR who)
{
    EnterCriticalSection(&resource->Lock);
    resource->Terminations++;
    LeaveCriticalSection(&resource->Lock);
    RetireWorker(resource);
    EnterCriticalSection(&resource->Lock);
    APP_PROCESS app = resource->App;
    ZeroMemory(&resource->App, sizeof resource->App);
    LeaveCriticalSection(&resource->Lock);
    if (!app.Process) return;
    DWORD id = app.ProcessId;
    if (EndApp(&app) == STILL_ACTIVE)
        g_LogEvent(resource->ResourceHandle, LOG_WARNING,
                   L"%ws: process %u did not end within %u ms of TerminateProcess\n", who, id,
                   REAP_MS);
    else
        g_LogEvent(resource->ResourceHandle, LOG_INFORMATION,
                   L"%ws: process %u terminated: offline\n", who, id);
}

/* --- the entry points --------------------------------------------------------------------- */

/* Create the instance with nothing started, so the entity is offline (OP-6, OP-7). On
 * failure: SetLastError and NULL (OP-2). */
static RESID WINAPI ProcessAppOpen(LPCWSTR ResourceName, HKEY ResourceKey,
                                   RESOURCE_HANDLE ResourceHandle)
{
    UNREFERENCED_PARAMETER(ResourceKey); /* no private properties to read */
    APP_RESOURCE *resource = calloc(1, sizeof *resource);
    if (!resource) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    lstrcpynW(resource->Name, ResourceName ? ResourceName : L"", NAME_CHARS); /* cut if long */
    resource->ResourceHandle = ResourceHandle;
    InitializeCriticalSection(&resource->Lock);
    resource->ResId = resource;
    g_LogEvent(ResourceHandle, LOG_INFORMATION, L"opened: offline, nothing started\n");
    return resource;
}

/* Terminate whatever still runs (CL-3), then free the instance (CL-4). */
static void WINAPI ProcessAppClose(RESID ResourceId)
{
    APP_RESOURCE *resource = Lookup(ResourceId);
    if (!resource) {
        SetLastError(ERROR_RESOURCE_NOT_FOUND); /* Close reports errors this way (CL-1) */
        return;
    }
    TerminateResource(resource, L"Close");
    g_LogEvent(resource->ResourceHandle, LOG_INFORMATION, L"closed\n");
    resource->ResId = NULL;
    DeleteCriticalSection(&resource->Lock);
    free(resource);
}

/* Start the process on a worker and return ERROR_IO_PENDING at once (ON-5, PO-2). The
 * EventHandle stays NULL: failures are found by LooksAlive/IsAlive polling (ON-1). */
static DWORD WINAPI ProcessAppOnline(RESID ResourceId, PHANDLE EventHandle)
{
    UNREFERENCED_PARAMETER(EventHandle);
    APP_RESOURCE *resource = Lookup(ResourceId);
    if (!resource) return ERROR_RESOURCE_NOT_FOUND;
    g_LogEvent(resource->ResourceHandle, LOG_INFORMATION, L"Online: starting the process\n");
    return StartOperation(resource, OnlineWorker);
}

/* Stop the process gracefully on a worker and return ERROR_IO_PENDING at once (OF-5). */
static DWORD WINAPI ProcessAppOffline(RESID ResourceId)
{
    APP_RESOURCE *resource = Lookup(ResourceId);
    if (!resource) return ERROR_RESOURCE_NOT_FOUND;
    g_LogEvent(resource->ResourceHandle, LOG_INFORMATION, L"Offline: stopping the process\n");
    return StartOperation(resource, OfflineWorker);
}

/* Take the resource offline at once (TE-1, TE-2); safe at any time, twice in a row, and
 * while Online, Offline, LooksAlive or IsAlive run (TE-4). */
static void WINAPI ProcessAppTerminate(RESID ResourceId)
{
    APP_RESOURCE *resource = Lookup(ResourceId);
    if (resource) TerminateResource(resource, L"Terminate");
}

/* The process exists; with READY, it also got as far as signalling BASE.ready. No waiting:
 * microseconds (LA-7, IA-6). Under the lock, so Terminate cannot close the handle meanwhile. */
static BOOL Alive(RESID ResourceId, BOOL ready)
{
    APP_RESOURCE *resource = Lookup(ResourceId);
    if (!resource) return FALSE;
    EnterCriticalSection(&resource->Lock);
    BOOL alive = AppRuns(&resource->App) &&
                 (!ready || WaitForSingleObject(resource->App.Ready, 0) == WAIT_OBJECT_0);
    LeaveCriticalSection(&resource->Lock);
    return alive;
}

/* Cursory check: the process still exists (LA-5). */
static BOOL WINAPI ProcessAppLooksAlive(RESID ResourceId) { return Alive(ResourceId, FALSE); }

/* Full check: the process exists and reached its own code (IA-3). */
static BOOL WINAPI ProcessAppIsAlive(RESID ResourceId) { return Alive(ResourceId, TRUE); }

/* --- control codes ------------------------------------------------------------------------ */

/* A DWORD answer: ERROR_MORE_DATA with the size needed when OutBuffer cannot hold it (RC-5). */
static DWORD AnswerDword(DWORD value, PVOID OutBuffer, DWORD OutBufferSize, LPDWORD BytesReturned)
{
    *BytesReturned = sizeof value;
    if (!OutBuffer || OutBufferSize < sizeof value) return ERROR_MORE_DATA;
    CopyMemory(OutBuffer, &value, sizeof value); /* OutBuffer need not be aligned */
    return ERROR_SUCCESS;
}

/* As process_app.py (conformance/control_codes.py): UNKNOWN succeeds (CC-1), the
 * characteristics are CLUS_CHAR_UNKNOWN (not quorum-capable, CC-2); every other code gets the
 * Resource Monitor's default processing (RC-4). No private properties (see the top). */
static DWORD WINAPI ProcessAppResourceControl(RESID ResourceId, DWORD ControlCode,
                                              PVOID InBuffer, DWORD InBufferSize,
                                              PVOID OutBuffer, DWORD OutBufferSize,
                                              LPDWORD BytesReturned)
{
    UNREFERENCED_PARAMETER(InBuffer);
    UNREFERENCED_PARAMETER(InBufferSize);
    DWORD unused;
    if (!BytesReturned) BytesReturned = &unused;
    *BytesReturned = 0;
    if (!Lookup(ResourceId)) return ERROR_RESOURCE_NOT_FOUND;
    switch (ControlCode) {
    case CLUSCTL_RESOURCE_UNKNOWN:
        return ERROR_SUCCESS;
    case CLUSCTL_RESOURCE_GET_CHARACTERISTICS:
        return AnswerDword(CLUS_CHAR_UNKNOWN, OutBuffer, OutBufferSize, BytesReturned);
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

/* The type's codes: TYPE_GET_CHARACTERISTICS is answered, so TYPE_UNKNOWN succeeds (CC-30). */
static DWORD WINAPI ProcessAppResourceTypeControl(LPCWSTR ResourceTypeName, DWORD ControlCode,
                                                  PVOID InBuffer, DWORD InBufferSize,
                                                  PVOID OutBuffer, DWORD OutBufferSize,
                                                  LPDWORD BytesReturned)
{
    UNREFERENCED_PARAMETER(ResourceTypeName);
    UNREFERENCED_PARAMETER(InBuffer);
    UNREFERENCED_PARAMETER(InBufferSize);
    DWORD unused;
    if (!BytesReturned) BytesReturned = &unused;
    *BytesReturned = 0;
    switch (ControlCode) {
    case CLUSCTL_RESOURCE_TYPE_UNKNOWN:
        return ERROR_SUCCESS;
    case CLUSCTL_RESOURCE_TYPE_GET_CHARACTERISTICS:
        return AnswerDword(CLUS_CHAR_UNKNOWN, OutBuffer, OutBufferSize, BytesReturned);
    default:
        return ERROR_INVALID_FUNCTION;
    }
}

/* --- Startup ------------------------------------------------------------------------------ */

/* Arbitrate and Release are NULL: the type is not quorum-capable (FT-3, AR-1). */
static CLRES_V1_FUNCTION_TABLE(g_FunctionTable, CLRES_VERSION_V1_00, ProcessApp, NULL, NULL,
                               ProcessAppResourceControl, ProcessAppResourceTypeControl);

/* Check the type name (case-insensitively, ST-9) and the version range (ST-3, ST-7), store
 * the callbacks (only on success, as the documented example does: ST-10) and hand out the
 * table. */
__declspec(dllexport) DWORD WINAPI Startup(LPCWSTR ResourceType, DWORD MinVersionSupported,
                                           DWORD MaxVersionSupported,
                                           PSET_RESOURCE_STATUS_ROUTINE SetResourceStatus,
                                           PLOG_EVENT_ROUTINE LogEvent,
                                           PCLRES_FUNCTION_TABLE *FunctionTable)
{
    if (!ResourceType || lstrcmpiW(ResourceType, RESOURCE_TYPE_NAME) != 0)
        return ERROR_CLUSTER_RESNAME_NOT_FOUND;
    if (MinVersionSupported > CLRES_VERSION_V1_00 || MaxVersionSupported < CLRES_VERSION_V1_00)
        return ERROR_REVISION_MISMATCH;
    if (!SetResourceStatus || !LogEvent || !FunctionTable) return ERROR_INVALID_PARAMETER;
    g_SetResourceStatus = SetResourceStatus;
    g_LogEvent = LogEvent;
    *FunctionTable = &g_FunctionTable;
    return ERROR_SUCCESS;
}

/* Only remembers the module (to find sleeper.exe); no thread notifications are needed. */
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    UNREFERENCED_PARAMETER(reserved);
    if (reason == DLL_PROCESS_ATTACH) {
        g_Module = instance;
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
