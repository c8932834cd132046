// Reference Generic Script control script (JScript): a lease held in a real file.
//
// The same resource as lease_file.vbs: Online writes the lease file named by the LeaseFile
// private property, LooksAlive checks that it exists, IsAlive that it still names this
// resource, Offline and Terminate remove it.
var fso = new ActiveXObject("Scripting.FileSystemObject");

function Open() {
  if (!Resource.PropertyExists("LeaseFile")) Resource.AddProperty("LeaseFile");
  return 0;
}

function Online() {
  if (Resource.LeaseFile === "") {
    Resource.LogInformation("set the LeaseFile private property to the lease's path");
    return 1;
  }
  var lease = fso.CreateTextFile(Resource.LeaseFile, true);
  lease.WriteLine("held by " + Resource.Name);
  lease.Close();
  Resource.LogInformation("lease taken: " + Resource.LeaseFile);
  return 0;
}

function LooksAlive() {
  return fso.FileExists(Resource.LeaseFile);
}

function IsAlive() {
  if (!fso.FileExists(Resource.LeaseFile)) return false;
  var lease = fso.OpenTextFile(Resource.LeaseFile, 1);
  var text = lease.ReadAll();
  lease.Close();
  return text.indexOf("held by " + Resource.Name) === 0;
}

function Offline() {
  if (fso.FileExists(Resource.LeaseFile)) fso.DeleteFile(Resource.LeaseFile);
  return 0;
}

function Terminate() {
  try {
    if (fso.FileExists(Resource.LeaseFile)) fso.DeleteFile(Resource.LeaseFile);
  } catch (e) {
    // must not fail whatever state the lease is in
  }
  return 0;
}

function Close() {
  return 0;
}
