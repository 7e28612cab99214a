namespace KestrelFrames.Bench; internal static class BenchProgram { public static int Main() => 0; }
