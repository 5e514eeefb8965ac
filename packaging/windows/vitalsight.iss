; Inno Setup script for Vitalsight (Inno Setup 6). Build dist\Vitalsight first (make package / build.py),
; then:  iscc packaging\windows\vitalsight.iss   ->  dist\Vitalsight-0.1.0-setup.exe
; Sign the result (and the executables inside, before packing) with signtool: see packaging/README.md.
#define AppVersion "0.1.0"

[Setup]
AppId={{6F1C8E4B-5D1A-4B7E-9C2A-7A1D3B9E2F40}
AppName=Vitalsight
AppVersion={#AppVersion}
AppPublisher=Vitalsight project
DefaultDirName={autopf}\Vitalsight
DefaultGroupName=Vitalsight
; Per-user install without admin rights by default; IT can deploy per machine with /ALLUSERS.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=Vitalsight-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\vitalsight.ico
UninstallDisplayIcon={app}\vitalsight.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
LicenseFile=..\..\resources\licences\README.txt

[Files]
Source: "..\..\dist\Vitalsight\*"; DestDir: "{app}"; Flags: recursesubdirs createallsubdirs ignoreversion

[Icons]
Name: "{group}\Vitalsight"; Filename: "{app}\vitalsight.exe"; Parameters: "gui"
Name: "{group}\Uninstall Vitalsight"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Vitalsight"; Filename: "{app}\vitalsight.exe"; Parameters: "gui"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\vitalsight.exe"; Parameters: "gui"; Description: "Start Vitalsight"; Flags: nowait postinstall skipifsilent

; The user's workspaces and models live in %LOCALAPPDATA%\vitalsight and are left alone on uninstall.
