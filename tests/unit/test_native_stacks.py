"""What is kept of winedbg's ``bt all``: the host's threads, without the debugger's own
break-in thread, and without the source paths into Wine's tree that winedbg makes up."""

from __future__ import annotations

from conformance.native.stacks import host_threads

OUTPUT = r"""WineDbg starting on pid 0108
Backtracing for thread 003c in process 0038 (C:\windows\system32\services.exe):
Backtrace:
=>0 0x0000017000ebe4 in ntdll (+0xebe4) (0x000000fffffff4)
Backtracing for thread 0110 in process 0108 (Z:\tmp\hang.exe):
Backtrace:
=>0 0x0000017000d664 in ntdll (+0xd664) (0000000000000000)
  1 0x0000007b075aec Sleep+0x24(timeout=<internal error>) [Z:\home\me\dlls\kernelbase\sync.c:57] in kernelbase (0000000000000000)
  2 0x00000140001581 in mydll (+0x1581) (0000000000000000)
Backtracing for thread 0124 in process 0108 (Z:\tmp\hang.exe):
Backtrace:
=>0 0x000001700555f5 in ntdll (+0x555f5) (0000000000000000)
  1 0x00000170045de9 DbgUiRemoteBreakin+0x89(arg=<internal error>) in ntdll (0000000000000000)
"""


def test_only_the_hosts_threads_are_kept_without_made_up_source_paths() -> None:
    kept = host_threads(OUTPUT, 0x108)
    assert kept.startswith("Thread 272 (0x0110):"), kept
    assert "in mydll (+0x1581)" in kept and "Sleep+0x24" in kept, kept
    assert "services.exe" not in kept and "0x003c" not in kept, "another process's thread"
    assert "DbgUiRemoteBreakin" not in kept, "winedbg's own break-in thread"
    assert "sync.c" not in kept, "a source path into Wine's tree that does not exist here"


def test_no_thread_of_the_host_gives_nothing() -> None:
    assert host_threads(OUTPUT, 0x999) == ""
