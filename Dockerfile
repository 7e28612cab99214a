# syntax=docker/dockerfile:1
# One image per architecture from this file: `docker buildx build --platform linux/amd64,linux/arm64 .`. The build
# stage runs on the builder's own platform and compiles for $TARGETARCH (ReadyToRun code included), so nothing runs
# under emulation. The SDK and runtime are pinned to the versions CI builds and tests with (SDK 10.0.401, runtime
# 10.0.12); move them together.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0.401-noble AS build
ARG TARGETARCH
WORKDIR /src
# Restore in its own layer: it changes only when a project file or a package version does. Same target and
# ReadyToRun as scripts/publish.sh, so the publish restores nothing more. The cache mount keeps the downloaded
# packages across builds, even when a changed project file invalidates this layer.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Directory.Build.props src/
COPY src/KestrelFrames.Protocol/KestrelFrames.Protocol.csproj src/KestrelFrames.Protocol/
COPY src/KestrelFrames/KestrelFrames.csproj src/KestrelFrames/
COPY src/KestrelFrames.Server/KestrelFrames.Server.csproj src/KestrelFrames.Server/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore src/KestrelFrames.Server/KestrelFrames.Server.csproj --os linux -a $TARGETARCH -p:PublishReadyToRun=true
COPY appsettings.json ./
COPY scripts/publish.sh scripts/
COPY src/ src/
# scripts/check-publish.sh runs this line without Docker (this machine's architecture for $TARGETARCH, its own output
# folder for /app): keep the publish command in scripts/publish.sh.
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages bash scripts/publish.sh /app $TARGETARCH

# Run: the chiseled ASP.NET runtime: no shell, no package manager, and the non-root `app` user (UID 1654) by
# default. The server's own `healthcheck` command stands in for curl.
FROM mcr.microsoft.com/dotnet/aspnet:10.0.12-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app ./
# The base image's ASPNETCORE_HTTP_PORTS=8080 would make Kestrel warn at every start that the endpoints below
# override it; they are the only binding.
ENV ASPNETCORE_HTTP_PORTS=
ENV Logging__Console__FormatterName=json
ENV Logging__Console__FormatterOptions__TimestampFormat=yyyy-MM-ddTHH:mm:ss.fffZ
ENV Frames__DrainDelay=00:00:05
ENV HostOptions__ShutdownTimeout=00:00:30
ENV Kestrel__Endpoints__Frames__Url=http://0.0.0.0:9000
ENV Kestrel__Endpoints__Http__Url=http://0.0.0.0:8080
EXPOSE 9000 8080
USER $APP_UID
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 CMD ["dotnet", "KestrelFrames.Server.dll", "healthcheck"]
ENTRYPOINT ["dotnet", "KestrelFrames.Server.dll"]
