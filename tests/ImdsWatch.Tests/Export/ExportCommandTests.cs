using System.Text.Json.Nodes;
using ImdsWatch.Cli;

namespace ImdsWatch.Tests.Export;

public sealed class ExportCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Sigma_without_out_is_one_multi_document_yaml_stream()
    {
        var (code, output, _) = Run("export", "sigma");
        Assert.Equal(0, code);
        var documents = output.Split("\n---\n");
        Assert.Equal(ExportFixtures.Sigma.Count, documents.Length);
        Assert.All(documents, d => Assert.StartsWith("# rules/", d));
    }

    [Fact]
    public void Elastic_without_out_is_pure_ndjson_and_names_what_needs_out()
    {
        var (code, output, error) = Run("export", "elastic");
        Assert.Equal(0, code);
        Assert.All(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.NotNull(JsonNode.Parse(l)!["rule_id"]));
        Assert.Contains("--out", error);
    }

    [Fact]
    public void Out_writes_every_file_of_the_export_into_the_folder()
    {
        var dir = Path.Combine(Path.GetTempPath(), "imdswatch-export-" + Guid.NewGuid().ToString("N"));
        try
        {
            foreach (var (target, files) in new[] { ("sigma", ExportFixtures.Sigma), ("splunk", ExportFixtures.Splunk), ("elastic", ExportFixtures.Elastic) })
            {
                var (code, _, error) = Run("export", target, "--out", dir);
                Assert.True(code == 0, error);
                Assert.All(files, f => Assert.Equal(f.Content, File.ReadAllText(Path.Combine(dir, f.Path))));
            }
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Errors_exit_2_with_a_message_and_no_stack_trace()
    {
        var file = Path.GetTempFileName();
        try
        {
            foreach (var args in new[] { new[] { "export", "qradar" }, ["export"], ["export", "sigma", "--out", file], ["export", "splunk", "--config", file + ".missing"] })
            {
                var (code, _, error) = Run(args);
                Assert.Equal(2, code);
                Assert.StartsWith("imdswatch: ", error);
                Assert.DoesNotContain("   at ", error);
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_config_adds_its_agents_and_indicators_to_the_export()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """
                agents:
                  add:
                    - { name: acme-inventory, executables: [/opt/acme/bin/inventory] }
                programs:
                  mention_only: [acme-firewall]
                """);
            var (code, output, error) = Run("export", "sigma", "--config", file);
            Assert.True(code == 0, error);
            Assert.Contains("/opt/acme/bin/inventory", output);
            Assert.Contains("'/acme-firewall'", output);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
