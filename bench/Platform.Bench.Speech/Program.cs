using Platform.Bench.Speech;

// Wall-clock numbers for the speech stages on this machine (never asserted in tests).
// Usage: dotnet run -c Release --project bench/Platform.Bench.Speech [-- --utterances N]
var utterances = args.Length == 2 && args[0] == "--utterances" && int.TryParse(args[1], out var n) ? n : 30;
return SpeechBench.Run(utterances);
