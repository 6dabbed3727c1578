using Platform.Bench.Face;

// Usage: dotnet run -c Release --project bench/Platform.Bench.Face [frames=150] [faceSize=512]
var frames = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 150;
var size = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 512;
FaceBench.Run(frames, size);
