#!/usr/bin/env bash
# Packs the four NuGet packages as CI builds them (Release, ContinuousIntegrationBuild) and checks what a consumer
# gets: each .nupkg's nuspec (id, version, MIT license expression, repository URL and commit, readme, dependencies),
# its files, its .snupkg with Source Link to this commit, and no build-machine path in the assembly. Then it uses
# them from a local feed: a project that references KestrelFrames and KestrelFrames.Client builds (so the
# KestrelFrames.Protocol dependency resolves); a new web project with the package README's Program.cs serves on the
# default ports and exits 2 on a bad option; a plain-SDK test project builds warning-free and runs the README's test
# recipes; and the bench tool installs and runs. Exits non-zero naming every check that failed. Needs: dotnet, git,
# unzip, curl, and unshare and ip (util-linux, iproute2) for a network namespace. Intermediate files go to
# artifacts/check-packages (git-ignored; kept for the next run's incremental build), the packages to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
feed=$work/feed

# The packages; KestrelFrames.Protocol first, since the others depend on it.
packages=(KestrelFrames.Protocol KestrelFrames KestrelFrames.Client KestrelFrames.Bench)
for id in "${packages[@]}"; do
  dotnet pack "src/$id/$id.csproj" -c Release -o "$feed" --artifacts-path artifacts/check-packages \
    -p:ContinuousIntegrationBuild=true >"$work/pack.log" 2>&1 || { cat "$work/pack.log"; echo "check-packages: dotnet pack $id failed"; exit 1; }
done

# What the packages must say, from the build itself and from git, not repeated here.
version=$(dotnet msbuild src/KestrelFrames.Protocol/KestrelFrames.Protocol.csproj -getProperty:PackageVersion -p:Configuration=Release)
repository=$(dotnet msbuild src/KestrelFrames.Protocol/KestrelFrames.Protocol.csproj -getProperty:RepositoryUrl)
commit=$(git rev-parse HEAD)
[ -n "$version" ] && [ -n "$repository" ] || { echo "check-packages: could not read PackageVersion/RepositoryUrl"; exit 1; }

failures=()
fail() { failures+=("$1: $2"); }

for id in "${packages[@]}"; do
  nupkg=$feed/$id.$version.nupkg
  snupkg=$feed/$id.$version.snupkg
  if [ ! -f "$nupkg" ]; then fail "$id" "no $id.$version.nupkg produced"; continue; fi
  # Unpacked to files: a grep -q that stops reading early would fail an `unzip -p |` pipeline under pipefail.
  unpacked=$work/unpacked/$id
  mkdir -p "$unpacked/symbols"
  unzip -q -o "$nupkg" -d "$unpacked"
  nuspec=$(tr -d '\r' <"$unpacked/$id.nuspec")
  files=$(unzip -Z1 "$nupkg")
  element() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" <<<"$nuspec" | head -n 1; }
  attribute() { sed -n "s:.*<$1 [^>]*$2=\"\([^\"]*\)\".*:\1:p" <<<"$nuspec" | head -n 1; }

  [ "$(element id)" = "$id" ] || fail "$id" "nuspec id is '$(element id)'"
  [ "$(element version)" = "$version" ] || fail "$id" "nuspec version is '$(element version)', expected $version"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$id" "no MIT license expression"
  [ "$(attribute repository type)" = git ] || fail "$id" "repository type is '$(attribute repository type)'"
  [ "$(attribute repository url)" = "$repository" ] || fail "$id" "repository url is '$(attribute repository url)', expected $repository"
  [ "$(attribute repository commit)" = "$commit" ] || fail "$id" "repository commit is '$(attribute repository commit)', expected $commit"
  [ "$(element readme)" = README.md ] || fail "$id" "no <readme>README.md</readme>"
  [ -s "$unpacked/README.md" ] || fail "$id" "README.md missing or empty in the package"
  for field in authors description tags projectUrl; do
    [ -n "$(element "$field")" ] || fail "$id" "no <$field>"
  done

  # A ProjectReference becomes a package dependency: on the version packed with it, which the feed must hold.
  protocol_dependency=$(sed -n "s:.*<dependency id=\"KestrelFrames.Protocol\" version=\"\([^\"]*\)\".*:\1:p" <<<"$nuspec")
  case $id in
    KestrelFrames | KestrelFrames.Client)
      [ "$protocol_dependency" = "$version" ] || fail "$id" "no dependency on KestrelFrames.Protocol $version (found '$protocol_dependency')"
      assets=lib/net10.0 ;;
    KestrelFrames.Protocol)
      grep -q '<dependency ' <<<"$nuspec" && fail "$id" "has dependencies; the wire codec must have none"
      assets=lib/net10.0 ;;
    KestrelFrames.Bench)
      # A dotnet tool carries its dependencies inside, so it declares none.
      grep -q '<packageType name="DotnetTool" />' <<<"$nuspec" || fail "$id" "not a DotnetTool package"
      grep -q '<dependency ' <<<"$nuspec" && fail "$id" "a tool package must not declare dependencies"
      assets=tools/net10.0/any
      for dll in KestrelFrames.Protocol.dll System.CommandLine.dll HdrHistogram.dll; do
        grep -qx "$assets/$dll" <<<"$files" || fail "$id" "$assets/$dll missing from the tool"
      done ;;
  esac
  grep -qx "$assets/$id.dll" <<<"$files" || fail "$id" "$assets/$id.dll missing"
  [ "$id" = KestrelFrames.Bench ] || grep -qx "$assets/$id.xml" <<<"$files" || fail "$id" "$assets/$id.xml (API docs) missing"

  # Deterministic CI build: paths are mapped to /_/, so the assembly names no folder of this machine.
  [ -f "$unpacked/$assets/$id.dll" ] && grep -aqF "$root/" "$unpacked/$assets/$id.dll" && fail "$id" "$id.dll contains the build path $root/ (ContinuousIntegrationBuild not applied)"

  if [ ! -f "$snupkg" ]; then fail "$id" "no $id.$version.snupkg produced"; continue; fi
  unzip -q -o "$snupkg" -d "$unpacked/symbols"
  pdb=$unpacked/symbols/$assets/$id.pdb
  if [ ! -f "$pdb" ]; then
    fail "$id" "$assets/$id.pdb missing from the .snupkg"
  else
    # Source Link: the PDB maps the sources to this commit's files in the repository.
    raw=${repository/https:\/\/github.com\//https://raw.githubusercontent.com/}
    grep -aqF "$raw/$commit/*" "$pdb" || fail "$id" "the PDB has no Source Link to $raw/$commit"
  fi
done

# The packages as a consumer sees them, from the feed alone for ours. The consumer's packages folder is its own, so a
# KestrelFrames 0.1.0 left in the machine's NuGet cache by an earlier pack cannot stand in for the one just made.
consumer=$work/consumer
mkdir -p "$consumer"
cat >"$consumer/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config><add key="globalPackagesFolder" value="$work/packages" /></config>
  <packageSources>
    <clear />
    <add key="check-packages" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="check-packages"><package pattern="KestrelFrames" /><package pattern="KestrelFrames.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF
cat >"$consumer/Consumer.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="KestrelFrames" Version="$version" />
    <PackageReference Include="KestrelFrames.Client" Version="$version" />
  </ItemGroup>
</Project>
EOF
# Types from all three libraries; FrameCodec comes from KestrelFrames.Protocol, referenced only transitively.
cat >"$consumer/Program.cs" <<'EOF'
using System.Buffers;
using KestrelFrames;
using KestrelFrames.Client;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddSingleton<IFrameHandler, Echo>();
builder.AddFrameServer();
var output = new ArrayBufferWriter<byte>();
FrameCodec.WriteFrame(output, "hello"u8);
Console.WriteLine($"{output.WrittenCount} {nameof(FrameClient)} {FrameStatus.ShuttingDown.IsConnectionEnding()}");

sealed class Echo : IFrameHandler
{
    public ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        frame.RespondWithRequest();
        return ValueTask.CompletedTask;
    }
}
EOF
if out=$(dotnet run --project "$consumer" 2>&1) && [ "$out" = "9 FrameClient True" ]; then
  echo "consumer: a project referencing KestrelFrames $version and KestrelFrames.Client $version builds and runs"
else
  fail consumer "a project referencing KestrelFrames and KestrelFrames.Client from the feed did not build or run: $out"
fi

# A host of one's own, as a new user makes it: `dotnet new web`, the package, and the package README's Program.cs
# pasted as it is (a handler, AddFrameServer, RunFrameServerAsync), built with warnings as errors. With no endpoint
# configured it must serve frames on 9000 and /health/ready on 8080, even with ASPNETCORE_URLS set (as `dotnet run`
# sets it from launchSettings.json), exit 0 on SIGTERM, and exit 2 with one line on a bad option. It runs in a
# network namespace of its own, so those fixed ports clash with nothing else on the machine.
host=$work/host
dotnet new web -o "$host" -n Host --no-restore >/dev/null
cp "$consumer/nuget.config" "$host/"
sed -i "s|</PropertyGroup>|  <TreatWarningsAsErrors>true</TreatWarningsAsErrors>\n  </PropertyGroup>\n  <ItemGroup>\n    <PackageReference Include=\"KestrelFrames\" Version=\"$version\" />\n  </ItemGroup>|" "$host/Host.csproj"
awk '/^## A server with your own handler/ { section = 1 } section && /^```csharp$/ { code = 1; next } code && /^```$/ { exit } code' \
  src/KestrelFrames/README.md >"$host/Program.cs"
if ! grep -q 'RunFrameServerAsync' "$host/Program.cs"; then
  fail host "no Program.cs with RunFrameServerAsync under '## A server with your own handler' in src/KestrelFrames/README.md"
elif dotnet build "$host" -c Release -o "$host/out" >"$work/host-build.log" 2>&1; then
  netns=(unshare --net)
  "${netns[@]}" true 2>/dev/null || { echo "host: no network namespace here (unshare --net failed); on this machine's ports 9000 and 8080"; netns=(); }
  # shellcheck disable=SC2016 # expanded by the inner shell
  HOST_DLL=$host/out/Host.dll OUT=$work "${netns[@]}" bash -c '
    ip link set lo up 2>/dev/null || true
    ASPNETCORE_URLS=http://127.0.0.1:5123 dotnet "$HOST_DLL" >"$OUT/host-run.log" 2>&1 &
    pid=$!
    # Waits for the host to answer (at most 60 tries, a second apart); the answer itself is what is checked.
    curl -s -o /dev/null -w "%{http_code}" --retry 60 --retry-connrefused --retry-delay 1 --max-time 5 http://127.0.0.1:8080/health/ready >"$OUT/host-ready" || true
    if exec 3<>/dev/tcp/127.0.0.1/9000; then
      printf "\x00\x00\x00\x05hello" >&3
      timeout 10 head -c 9 <&3 | od -An -tx1 | tr -d " \n" >"$OUT/host-answer"
      exec 3>&-
    fi
    # After the request: a counter has no series before its first count.
    curl -s --max-time 5 http://127.0.0.1:8080/metrics >"$OUT/host-metrics" || true
    kill -TERM "$pid"
    wait "$pid"
    echo $? >"$OUT/host-exit"
    dotnet "$HOST_DLL" --Frames:Workers=0 >"$OUT/host-bad.out" 2>"$OUT/host-bad.err"
    echo $? >"$OUT/host-bad-exit"
  ' || true
  read_file() { cat "$1" 2>/dev/null || true; }
  [ "$(read_file "$work/host-ready")" = 200 ] || fail host "GET :8080/health/ready answered '$(read_file "$work/host-ready")', not 200: $(read_file "$work/host-run.log")"
  grep -q '^frames_requests_total' "$work/host-metrics" 2>/dev/null || fail host "GET :8080/metrics has no frames_requests_total: $(read_file "$work/host-metrics" | head -c 300)"
  [ "$(read_file "$work/host-answer")" = 0000000548454c4c4f ] || fail host "a frame 'hello' to :9000 was answered '$(read_file "$work/host-answer")', not 'HELLO'"
  [ "$(read_file "$work/host-exit")" = 0 ] || fail host "exit code '$(read_file "$work/host-exit")' after SIGTERM, not 0: $(read_file "$work/host-run.log")"
  bad_exit=$(read_file "$work/host-bad-exit")
  bad_output=$(read_file "$work/host-bad.err"; read_file "$work/host-bad.out")
  [ "$bad_exit" = 2 ] || fail host "exit code '$bad_exit' on --Frames:Workers=0, not 2: $bad_output"
  { [ "$(grep -c . <<<"$bad_output")" = 1 ] && grep -q '^kestrelframes: configuration error: Frames:Workers' <<<"$bad_output"; } \
    || fail host "--Frames:Workers=0 printed other than one line naming Frames:Workers: $bad_output"
  if [[ "${failures[*]:-}" != *"host: "* ]]; then
    echo "host: a new web project with the README's Program.cs builds warning-free, serves frames on 9000 and /health/ready on 8080, exits 0 on SIGTERM and 2 with one line on a bad option"
  fi
else
  cat "$work/host-build.log"
  fail host "a new web project with the package README's Program.cs did not build with warnings as errors"
fi

# A test project as a handler author makes one: the plain SDK, with no ASP.NET Core framework reference of its own,
# so NuGet meets prometheus-net's dependency ranges unpruned (NU1603 if the package did not pin them); warnings as
# errors; the package README's two test recipes, run.
tests=$work/tests
mkdir -p "$tests"
cp "$consumer/nuget.config" "$tests/"
cat >"$tests/Tests.csproj" <<END_OF_PROJECT
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <IsPackable>false</IsPackable>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="KestrelFrames" Version="$version" />
    <PackageReference Include="KestrelFrames.Client" Version="$version" />
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
    <PackageReference Include="xunit" Version="2.9.3" />
    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
  </ItemGroup>
</Project>
END_OF_PROJECT
cat >"$tests/HandlerTests.cs" <<'END_OF_TESTS'
using System.Net;
using KestrelFrames;
using KestrelFrames.Client;
using KestrelFrames.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

public sealed class HandlerTests
{
    [Fact]
    public async Task The_handler_alone()
    {
        var frame = new TestFrameContext("hello"u8.ToArray());
        await new EchoFrameHandler().HandleAsync(frame, CancellationToken.None);
        Assert.Equal("hello"u8.ToArray(), frame.Answer.ToArray());
    }

    [Fact]
    public async Task The_whole_host_on_port_0()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Frames:Url"] = "http://127.0.0.1:0",
            ["Kestrel:Endpoints:Http:Url"] = "http://127.0.0.1:0",
        });
        builder.AddFrameServer();
        await using var app = builder.Build();
        await app.StartAsync();

        var frames = (IPEndPoint)app.Services.GetRequiredService<FrameEndpoints>().EndPoints.Single();
        var http = app.Urls.Select(url => new Uri(url)).Single(url => url.Port != frames.Port);
        await using (var client = await FrameClient.ConnectAsync("127.0.0.1", frames.Port))
        {
            FrameResponse answer = await client.SendAsync("hello"u8.ToArray());
            Assert.Equal("hello"u8.ToArray(), answer.EnsureOk().ToArray());
        }

        using var httpClient = new HttpClient();
        using HttpResponseMessage ready = await httpClient.GetAsync(new Uri(http, "/health/ready"));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await app.StopAsync();
    }
}
END_OF_TESTS
if dotnet test "$tests" >"$work/tests.log" 2>&1; then
  echo "tests: a plain-SDK test project on KestrelFrames builds with warnings as errors (no NU1603) and runs the README's test recipes"
else
  cat "$work/tests.log"
  fail tests "a plain-SDK test project with warnings as errors did not build, or its tests failed"
fi

if dotnet tool install KestrelFrames.Bench --version "$version" --tool-path "$work/tools" --configfile "$consumer/nuget.config" \
    >"$work/tool.log" 2>&1 && "$work/tools/kestrelframes-bench" --help >/dev/null 2>&1; then
  echo "tool: kestrelframes-bench installs from the feed and runs"
else
  cat "$work/tool.log"
  fail KestrelFrames.Bench "dotnet tool install from the feed, or kestrelframes-bench --help, failed"
fi

if [ ${#failures[@]} -gt 0 ]; then
  printf 'check-packages: FAIL: %s\n' "${failures[@]}"
  exit 1
fi
echo "check-packages: ok: ${packages[*]} $version (+ .snupkg), repository $repository at $commit"
