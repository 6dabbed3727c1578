using Platform.Bench.Engine;

// Wall-clock numbers for whole conversations on this machine (never asserted in tests).
// Usage: dotnet run -c Release --project bench/Platform.Bench.Engine [-- --sessions 4 --turns 4 --width 1280 --height 720 --bitrate 2000 --cpu-used -12 --no-encode --mp4 out.mp4 | --stages]
var options = EngineBenchOptions.Parse(args);
return args.Contains("--stages") ? VideoStageBench.Run(options) : await EngineBench.RunAsync(options);
