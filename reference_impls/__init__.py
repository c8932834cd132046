"""Conforming resource types that manage real things (docs/design.md, "reference_impls/").

Each module is a Python resource DLL the harness can load by path, with its companion
(``<module>_companion.py``) beside it; the suite must find no required rule broken.
"""
