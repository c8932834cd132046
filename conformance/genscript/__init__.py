"""The Generic Script resource type (docs/contract.md §8): a resource DLL (`dll`) that hosts a
control script written in VBScript, JScript or Python, one script instance per resource, with
the load/unload and call sequences of the Resource Monitor actions table (§8.3).

A control script is tested as a resource type of its own: `rescheck run --resource-type
script.vbs` runs the whole suite against this DLL with the script as its ScriptFilePath, so every
lifecycle rule applies to scripts too.
"""

from __future__ import annotations

#: The type name, as the cluster knows it.
GENERIC_SCRIPT = "Generic Script"
#: The one private property of the type (GS-1).
SCRIPT_FILE_PATH = "ScriptFilePath"
