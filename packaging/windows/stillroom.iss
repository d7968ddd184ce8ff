; Inno Setup script: the Windows installer around PyInstaller's dist\stillroom folder.
; Built by .github/workflows/installers.yml (not run in this project's Linux CI):
;   iscc /DAppVersion=0.1.0 packaging\windows\stillroom.iss
; Output: dist\Stillroom-Setup-<version>.exe. Signing happens in the workflow (signtool), with
; the certificate from the CI secrets; never in the repository.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{5A0E6B1C-3F0B-4C59-9E51-7D1B8E2A4C11}
AppName=Stillroom
AppVersion={#AppVersion}
AppPublisher=Stillroom
DefaultDirName={autopf}\Stillroom
DefaultGroupName=Stillroom
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=Stillroom-Setup-{#AppVersion}
SetupIconFile=..\..\build\stillroom.ico
UninstallDisplayIcon={app}\stillroomw.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
ChangesEnvironment=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the stillroom command to PATH"; GroupDescription: "Command line:"

[Files]
Source: "..\..\dist\stillroom\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Stillroom"; Filename: "{app}\stillroomw.exe"
Name: "{autodesktop}\Stillroom"; Filename: "{app}\stillroomw.exe"; Tasks: desktopicon

[Registry]
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; \
  ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
  Check: NeedsAddPath(ExpandConstant('{app}')); Tasks: addtopath

[Run]
Filename: "{app}\stillroomw.exe"; Description: "Start Stillroom"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Nothing the app writes lives here (its data is in %APPDATA%\Stillroom), but a crash
; dump or a stray cache must not keep the folder.
Type: filesandordirs; Name: "{app}"

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_LOCAL_MACHINE,
      'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
