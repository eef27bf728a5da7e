using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;
using Spectre.Console;

namespace ImdsWatch.Tests.Alerts;

public sealed class TableAlertWriterTests
{
    private static readonly IReadOnlyList<Alert> Samples = ScanSamples();

    private static List<Alert> ScanSamples()
    {
        var sources = InputResolver.Resolve([Repo.Samples], out var errors);
        Assert.Empty(errors);
        return [.. new DetectionPipeline(DetectionRules.Default).Scan(sources).Alerts];
    }

    private static string[] Render(IReadOnlyList<Alert> alerts, int width)
    {
        var output = new StringWriter { NewLine = "\n" };
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
        });
        console.Profile.Width = width;
        new TableAlertWriter(console).Write(alerts, output);
        return output.ToString().TrimEnd('\n').Split('\n');
    }

    /// <summary>The samples on one host, and again spread over three, so both layouts are seen.</summary>
    public static TheoryData<int, bool> Widths => new() { { 80, false }, { 120, false }, { 80, true }, { 120, true }, { 200, true } };

    private static IReadOnlyList<Alert> Alerts(bool severalHosts) => severalHosts
        ? [.. Samples.Select((a, i) => a with { Host = (i % 3) switch { 0 => "web-1", 1 => "db-ünï-2", _ => a.Host } })]
        : [.. Samples.Select(a => a with { Host = "vm" })];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_alert_is_one_line_no_longer_than_the_width(int width, bool severalHosts)
    {
        var alerts = Alerts(severalHosts);
        var lines = Render(alerts, width);

        Assert.All(lines, line => Assert.True(LineLayout.Cells(line) <= width, $"{LineLayout.Cells(line)} cells: {line}"));
        var hosts = alerts.Select(a => a.Host).Distinct().Count();
        Assert.Equal(1 + alerts.Count + (hosts > 1 ? hosts : 0), lines.Length); // header, a line per alert, a line per host
        Assert.StartsWith("SEVERITY", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Most_severe_first_within_each_host_and_the_worst_host_first(int width, bool severalHosts)
    {
        var alerts = Alerts(severalHosts);
        var lines = Render(alerts, width);
        var groups = new List<List<(Severity Severity, int Risk)>>();
        var byHost = alerts.Select(a => a.Host).Distinct().Count() > 1;
        if (!byHost)
            groups.Add([]);
        foreach (var line in lines.Skip(1))
        {
            var first = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (Enum.TryParse<Severity>(first[0], ignoreCase: true, out var severity))
                groups[^1].Add((severity, int.Parse(first[1], System.Globalization.CultureInfo.InvariantCulture)));
            else
            {
                Assert.True(byHost, $"a host line in a one-host table: {line}");
                Assert.Matches(@": \d+ alert\(s\), ", line);
                groups.Add([]);
            }
        }

        Assert.Equal(alerts.Count, groups.Sum(g => g.Count));
        foreach (var g in groups)
            Assert.Equal(g.OrderByDescending(x => x.Severity).ThenByDescending(x => x.Risk), g);
        Assert.Equal(groups.Select(g => g[0]).OrderByDescending(x => x.Severity).ThenByDescending(x => x.Risk), groups.Select(g => g[0]));
        Assert.Equal(alerts.Max(a => a.Severity), groups[0][0].Severity);
    }

    [Fact]
    public void At_120_columns_the_lines_name_the_user_process_reached_and_type()
    {
        var lines = Render(Alerts(severalHosts: false), 120);
        Assert.Contains(lines, l => l.Contains("curl[", StringComparison.Ordinal) && l.Contains("credentials 169.254.169.254", StringComparison.Ordinal)
            && l.TrimEnd().EndsWith("MetadataAPIProcess", StringComparison.Ordinal));
    }

    [Fact]
    public void At_80_columns_the_type_is_its_short_name_not_a_cut_one()
    {
        var lines = Render(Alerts(severalHosts: true), 80);
        Assert.Contains(lines, l => l.TrimEnd().EndsWith(" process", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("MetadataAPIPro…", StringComparison.Ordinal));
        Assert.Equal(Enum.GetValues<AlertType>().Length, Enum.GetValues<AlertType>().Select(TableAlertWriter.ShortName).Distinct().Count());
    }

    [Theory]
    [InlineData("short", 10, "short")]
    [InlineData("exactly-10", 10, "exactly-10")]
    [InlineData("one-too-long", 11, "one-too-lo…")]
    [InlineData("日本語のホスト", 7, "日本語…")]
    [InlineData("abc", 0, "")]
    public void Values_are_cut_to_their_cells_with_an_ellipsis(string text, int width, string shown)
    {
        Assert.Equal(shown, LineLayout.Cut(text, width));
        Assert.True(LineLayout.Cells(LineLayout.Cut(text, width)) <= width);
    }
}
