# escape=`

FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
WORKDIR C:\app
COPY app.ps1 C:\app\
RUN New-Item -ItemType Directory -Path C:\data ; `
    Set-Content -Path C:\data\ready.txt -Value 'ok'
USER ContainerUser
CMD ["powershell", "-File", "C:\\app\\app.ps1"]
