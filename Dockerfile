# syntax=docker/dockerfile:1
# Build: the SDK image; the publish command lives in scripts/publish.sh, which CI runs too.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore in its own layer: it changes only when a project file or a package version does.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/KestrelFrames.Protocol/KestrelFrames.Protocol.csproj src/KestrelFrames.Protocol/
COPY src/KestrelFrames/KestrelFrames.csproj src/KestrelFrames/
COPY src/KestrelFrames.Server/KestrelFrames.Server.csproj src/KestrelFrames.Server/
RUN dotnet restore src/KestrelFrames.Server/KestrelFrames.Server.csproj -r linux-x64
COPY appsettings.json ./
COPY scripts/publish.sh scripts/
COPY src/ src/
RUN bash scripts/publish.sh /app

# Run: the ASP.NET runtime image, as its non-root user.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
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
