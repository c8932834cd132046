"""Reference Generic Script control script (Python): a lease held in a real file.

The same resource as lease_file.vbs: Online writes the lease file named by the LeaseFile
private property, LooksAlive checks that it exists, IsAlive that it still names this
resource, Offline and Terminate remove it. ``Resource`` and ``CreateObject`` are the globals
a scripted resource gets.
"""

# ruff: noqa: F821  (Resource and CreateObject are the scripted resource's globals)

fso = CreateObject("Scripting.FileSystemObject")


def Open():
    if not Resource.PropertyExists("LeaseFile"):
        Resource.AddProperty("LeaseFile")
    return 0


def Online():
    if Resource.LeaseFile == "":
        Resource.LogInformation("set the LeaseFile private property to the lease's path")
        return 1
    lease = fso.CreateTextFile(Resource.LeaseFile, True)
    lease.WriteLine("held by " + Resource.Name)
    lease.Close()
    Resource.LogInformation("lease taken: " + Resource.LeaseFile)
    return 0


def LooksAlive():
    return fso.FileExists(Resource.LeaseFile)


def IsAlive():
    if not fso.FileExists(Resource.LeaseFile):
        return False
    lease = fso.OpenTextFile(Resource.LeaseFile, 1)
    text = lease.ReadAll()
    lease.Close()
    return text.startswith("held by " + Resource.Name)


def Offline():
    if fso.FileExists(Resource.LeaseFile):
        fso.DeleteFile(Resource.LeaseFile)
    return 0


def Terminate():
    try:
        if fso.FileExists(Resource.LeaseFile):
            fso.DeleteFile(Resource.LeaseFile)
    except Exception:  # must not fail whatever state the lease is in
        pass
    return 0


def Close():
    return 0
