; tipdesk — Inno Setup 6 script for the Windows installer.
;
; Built by `python installer\build.py --installer` on Windows, which passes the version of
; pyproject.toml and the bundle folder:
;   iscc /DAppVersion=0.1.0 /DSourceDir=...\dist\tipdesk /O...\dist installer\windows\tipdesk.iss
; It cannot be built on Linux (Inno Setup is a Windows program); see installer/README.md.
;
; What it does:
; - installs for the current user without administrator rights (into
;   %LOCALAPPDATA%\Programs\tipdesk); the first page offers "for all users" to those who can;
; - a Start-menu entry (and, if ticked, a desktop icon);
; - opens *.tipdb registers with tipdesk (per user, or for all users in an all-users install);
; - on upgrade, first deletes the previous version's program files, so no module of an old
;   version lingers beside the new one;
; - on uninstall removes only the files it installed: registers (*.tipdb), their key files
;   (*.tipdb.keys), backups and settings are never touched — they are not in the program folder
;   and nothing here deletes anything outside it.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z (installer\build.py does this)
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\tipdesk"
#endif

[Setup]
; Never change AppId: Windows recognises upgrades of the same application by it.
AppId={{7F68A5AF-E09D-4B0B-AA26-555DB3DF1317}
AppName=tipdesk
AppVersion={#AppVersion}
AppVerName=tipdesk {#AppVersion}
AppPublisher=tipdesk developers
AppComments=Encrypted case register and standardised returns for counter-trafficking offices
DefaultDirName={autopf}\tipdesk
DefaultGroupName=tipdesk
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputBaseFilename=tipdesk-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\tipdesk.ico
UninstallDisplayIcon={app}\tipdesk.exe
UninstallDisplayName=tipdesk {#AppVersion}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
; Close a running tipdesk (Restart Manager) before replacing its files.
CloseApplications=yes
RestartApplications=no
#ifdef SignTool
; iscc /DSignTool=signtool ... signs setup and uninstaller with the tool defined in the IDE or
; on the command line (/Ssigntool=...); see installer/README.md.
SignTool={#SignTool}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; Upgrades start from a clean program folder. Only the bundle's own parts are deleted (its
; library folder and its two programs), never the folder as a whole: a person may have saved
; something there, and a register must never be deleted by an installer.
Type: filesandordirs; Name: "{app}\_internal"
Type: files; Name: "{app}\tipdesk.exe"
Type: files; Name: "{app}\tipdesk-cli.exe"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\tipdesk"; Filename: "{app}\tipdesk.exe"; Comment: "Open a tipdesk register"
Name: "{autodesktop}\tipdesk"; Filename: "{app}\tipdesk.exe"; Tasks: desktopicon

[Registry]
; *.tipdb opens with tipdesk. HKA is the current user's classes in a per-user install and the
; machine's in an all-users install. Uninstalling removes these keys, never the files.
Root: HKA; Subkey: "Software\Classes\.tipdb\OpenWithProgids"; ValueType: string; ValueName: "tipdesk.register"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\tipdesk.register"; ValueType: string; ValueName: ""; ValueData: "tipdesk register"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\tipdesk.register\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\tipdesk.exe,0"
Root: HKA; Subkey: "Software\Classes\tipdesk.register\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\tipdesk.exe"" open ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\tipdesk.exe\SupportedTypes"; ValueType: string; ValueName: ".tipdb"; ValueData: ""; Flags: uninsdeletekey

[Run]
Filename: "{app}\tipdesk.exe"; Description: "{cm:LaunchProgram,tipdesk}"; Flags: nowait postinstall skipifsilent
