using System.Globalization;

namespace ImdsWatch.Fuzz;

/// <summary>Options of <c>run</c> and <c>process</c>; without a budget, 10 000 inputs a target.</summary>
public sealed class Options
{
    public List<string> Targets { get; } = [];
    public long Inputs { get; set; } = 10_000;
    public TimeSpan Time { get; set; } = TimeSpan.MaxValue;
    public int Seed { get; set; } = 1;
    public List<string> Corpora { get; } = [];
    public string? Findings { get; set; }
    public string[]? Command { get; set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = args[i + 1];
            switch (args[i])
            {
                case "--target": o.Targets.Add(value); break;
                case "--inputs": o.Inputs = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": o.Time = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)); break;
                case "--seed": o.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--corpus": o.Corpora.Add(value); break;
                case "--findings": o.Findings = value; break;
                case "--imdswatch": o.Command = value.Split(' ', StringSplitOptions.RemoveEmptyEntries); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (args.Contains("--seconds") && !args.Contains("--inputs"))
            o.Inputs = long.MaxValue; // a time budget alone: as many inputs as fit
        return o;
    }
}
