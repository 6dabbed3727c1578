using Platform.Bench.Engine;

// Wall-clock numbers for whole conversations on this machine (never asserted in tests).
// Usage: dotnet run -c Release --project bench/Platform.Bench.Engine [-- --sessions 4 --turns 4 --width 1280 --height 720 --bitrate 2000 --cpu-used -12 --no-encode --mp4 out.mp4 | --stages | --video-only SECONDS]
var options = EngineBenchOptions.Parse(args);
var seconds = Array.IndexOf(args, "--video-only") is var v and >= 0 && v + 1 < args.Length && int.TryParse(args[v + 1], out var s) ? s : 0;
return args.Contains("--stages") ? VideoStageBench.Run(options)
    : seconds > 0 ? await VideoOnlyBench.RunAsync(options, seconds)
    : await EngineBench.RunAsync(options);
