"""Compiled resource DLLs: the native host (C, built with mingw-w64), run under Wine on Linux."""
