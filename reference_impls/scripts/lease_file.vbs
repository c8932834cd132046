' Reference Generic Script control script (VBScript): a lease held in a real file.
'
' Online writes the lease file named by the LeaseFile private property, LooksAlive checks that
' it exists, IsAlive that it still names this resource, Offline and Terminate remove it. Every
' file operation goes through Scripting.FileSystemObject, all output through the Resource
' object (a scripted resource has no console), and LooksAlive/IsAlive return Booleans (GS-14).
Option Explicit

Dim fso
Set fso = CreateObject("Scripting.FileSystemObject")

Function Open()
  ' Runs on every load, possibly twice per load (GS-21): only adds what is missing.
  If Not Resource.PropertyExists("LeaseFile") Then Resource.AddProperty "LeaseFile"
  Open = 0
End Function

Function Online()
  Dim lease
  If Resource.LeaseFile = "" Then
    Resource.LogInformation "set the LeaseFile private property to the lease's path"
    Online = 1
    Exit Function
  End If
  Set lease = fso.CreateTextFile(Resource.LeaseFile, True)
  lease.WriteLine "held by " & Resource.Name
  lease.Close
  Resource.LogInformation "lease taken: " & Resource.LeaseFile
  Online = 0
End Function

Function LooksAlive()
  LooksAlive = fso.FileExists(Resource.LeaseFile)
End Function

Function IsAlive()
  Dim lease, text
  IsAlive = False
  If Not fso.FileExists(Resource.LeaseFile) Then Exit Function
  Set lease = fso.OpenTextFile(Resource.LeaseFile, 1)
  text = lease.ReadAll
  lease.Close
  IsAlive = (InStr(text, "held by " & Resource.Name) = 1)
End Function

Function Offline()
  If fso.FileExists(Resource.LeaseFile) Then fso.DeleteFile Resource.LeaseFile
  Offline = 0
End Function

Function Terminate()
  ' Must not fail whatever state the lease is in.
  On Error Resume Next
  If fso.FileExists(Resource.LeaseFile) Then fso.DeleteFile Resource.LeaseFile
  Err.Clear
  Terminate = 0
End Function

Function Close()
  Close = 0
End Function
