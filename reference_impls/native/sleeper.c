/* sleeper.exe: the application each "Process App" instance (process_app.c) runs.
 *
 * It does nothing but stay alive, which is all a Generic-Application-like resource needs of
 * its process, and it needs nothing from a Wine prefix beyond kernel32: no console, no window,
 * no network (ping.exe needs ICMP sockets and cmd.exe would leave its own children behind when
 * terminated). It is a GUI-subsystem program, so starting it creates no console either.
 *
 * Command line: BASE PARENT_PID ["LABEL"], where BASE names two events the DLL created:
 *   BASE.ready  set once the process runs its own code (the DLL's Online waits for it), and
 *   BASE.quit   set by the DLL's Offline to ask for a graceful exit (exit code 0).
 * It also exits when the process PARENT_PID ends, so that a host that dies (or is killed)
 * never leaves a sleeper behind (under Wine a child is not in its parent's process group).
 * LABEL, ignored here, is the resource's name: it tells the processes apart in a process list.
 *
 * Build: x86_64-w64-mingw32-gcc -O2 -municode -mwindows -o sleeper.exe sleeper.c
 */
#include <windows.h>
#include <stdlib.h>
#include <wchar.h>

#define NAME_CHARS 128
/* Exit codes the DLL's log shows: what went wrong before the process could report ready. */
#define EXIT_BAD_COMMAND_LINE 2
#define EXIT_NO_EVENTS 3

/* The event BASE followed by SUFFIX, or NULL (a name too long or an event that is missing). */
static HANDLE OpenSuffixedEvent(LPCWSTR base, size_t baseChars, LPCWSTR suffix, DWORD access)
{
    WCHAR name[NAME_CHARS];
    size_t suffixChars = wcslen(suffix);
    if (baseChars + suffixChars >= NAME_CHARS) return NULL;
    wmemcpy(name, base, baseChars);
    wmemcpy(name + baseChars, suffix, suffixChars + 1);
    return OpenEventW(access, FALSE, name);
}

int WINAPI wWinMain(HINSTANCE instance, HINSTANCE previous, PWSTR commandLine, int show)
{
    (void)instance;
    (void)previous;
    (void)show;
    /* BASE ends at the first space; the parent's id follows it. */
    size_t baseChars = wcscspn(commandLine, L" ");
    DWORD parentId = commandLine[baseChars] ? wcstoul(commandLine + baseChars + 1, NULL, 10) : 0;
    if (baseChars == 0 || parentId == 0) return EXIT_BAD_COMMAND_LINE;
    HANDLE parent = OpenProcess(SYNCHRONIZE, FALSE, parentId);
    HANDLE quit = OpenSuffixedEvent(commandLine, baseChars, L".quit", SYNCHRONIZE);
    HANDLE ready = OpenSuffixedEvent(commandLine, baseChars, L".ready", EVENT_MODIFY_STATE);
    if (!parent || !quit || !ready) return EXIT_NO_EVENTS; /* the system closes what is open */
    SetEvent(ready);
    CloseHandle(ready);
    HANDLE waits[2] = {quit, parent};
    WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    CloseHandle(quit);
    CloseHandle(parent);
    return 0;
}
