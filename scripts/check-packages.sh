#!/usr/bin/env bash
# Packs the four NuGet packages as CI builds them (Release, ContinuousIntegrationBuild) and checks what a consumer
# gets: each .nupkg's nuspec (id, version, MIT license expression, repository URL and commit, readme, dependencies),
# its files, its .snupkg with Source Link to this commit, and no build-machine path in the assembly. Then it uses
# them from a local feed: a project that references KestrelFrames and KestrelFrames.Client builds (so the
# KestrelFrames.Protocol dependency resolves), and the bench tool installs and runs. Exits non-zero naming every
# check that failed. Needs: dotnet, git, unzip. Intermediate files go to artifacts/check-packages (git-ignored; kept
# for the next run's incremental build), the packages to a temporary folder.
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
