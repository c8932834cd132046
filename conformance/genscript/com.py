"""COM as a control script sees it: the errors its stand-ins raise, by VBScript's numbers."""

from __future__ import annotations

#: VBScript's "ActiveX component can't create object".
CANT_CREATE = 429
#: VBScript's "Object doesn't support this property or method".
NOT_SUPPORTED = 438
#: VBScript's "File not found" and "Path not found".
FILE_NOT_FOUND, PATH_NOT_FOUND = 53, 76
#: VBScript's "Input past end of file" (ReadLine at the end of a stream).
INPUT_PAST_END = 62
#: "The system cannot find the file specified" (0x80070002), as a VBScript Err.Number:
#: WScript.Shell's Run or Exec of a program that does not exist.
FILE_NOT_FOUND_HRESULT = 0x80070002 - (1 << 32)
#: WMI's "not found" (0x80041002), as a VBScript Err.Number.
WBEM_E_NOT_FOUND = 0x80041002 - (1 << 32)


class ComError(Exception):
    """A COM error as a script sees it: VBScript's Err.Number and Err.Description."""

    def __init__(self, number: int, description: str) -> None:
        super().__init__(description)
        self.number, self.description = number, description
