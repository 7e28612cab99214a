# syntax=docker/dockerfile:1
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore in its own layer: it changes only when a project file or package version does.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/KestrelFrames/KestrelFrames.csproj src/KestrelFrames/
COPY src/KestrelFrames.Server/KestrelFrames.Server.csproj src/KestrelFrames.Server/
RUN dotnet restore src/KestrelFrames.Server/KestrelFrames.Server.csproj
COPY appsettings.json ./
COPY src/ src/
RUN dotnet publish src/KestrelFrames.Server/KestrelFrames.Server.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV Logging__Console__FormatterName=json \
    Frames__DrainDelay=00:00:05 \
    Kestrel__Endpoints__Frames__Url=http://0.0.0.0:9000 \
    Kestrel__Endpoints__Http__Url=http://0.0.0.0:8080
EXPOSE 9000 8080
USER $APP_UID
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["dotnet", "KestrelFrames.Server.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "KestrelFrames.Server.dll"]
