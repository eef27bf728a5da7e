using CsCheck;
using ImdsWatch.Detection;
using ImdsWatch.Pipeline;
using ImdsWatch.Sources;
using ImdsWatch.Sources.Auditd;
using ImdsWatch.Sources.Auditd.Prefilter;
using ImdsWatch.Sources.Input;
using ImdsWatch.Tests.Support;

namespace ImdsWatch.Tests.Sources;

/// <summary>Whatever bytes a log holds, the pipeline reports and goes on: no exception escapes a reader.</summary>
public sealed class ParserFuzzTests
{
    private static readonly string[] Seeds =
    [
        "type=SYSCALL msg=audit(1.000:5): arch=c000003e syscall=42 success=no exit=-115 pid=5 ppid=1 uid=0 auid=0 comm=\"curl\" exe=\"/usr/bin/curl\" key=\"k\"\u001dSYSCALL=connect UID=\"root\"",
        "type=SOCKADDR msg=audit(1.000:5): saddr=0A0000500000000000000000000000000000FFFFA9FEA9FE00000000",
        "type=EXECVE msg=audit(1.000:6): argc=3 a0=\"curl\" a1_len=8 a1[0]=6869 a1[1]=\"x\" a2=0x",
        "node=h type=PROCTITLE msg=audit(1.000:6): proctitle=6375726C00",
        "type=USER_LOGIN msg=audit(1.000:7): pid=1 msg='op=login acct=\"x res=failed",
    ];

    [Fact]
    public void Mutated_real_records_never_throw()
    {
        var gen = from seed in Gen.OneOfConst(Seeds)
                  from cut in Gen.Int[0, 200]
                  from insert in Gen.Char.Array[0, 6]
                  select seed[..Math.Min(cut, seed.Length)] + new string(insert) + seed[Math.Min(cut, seed.Length)..];
        gen.Array[1, 12].Sample(lines =>
        {
            var path = Audit.WriteTemp(string.Join('\n', lines));
            _ = new DetectionPipeline(DetectionRules.Default).Scan([new InputSource(path, path)]);
        }, iter: 300);
    }

    [Fact]
    public void Random_bytes_never_throw_the_record_parser_or_field_reader()
    {
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            var parser = new AuditRecordParser();
            if (parser.TryParse(bytes, 0, 1, out var record, out _))
                _ = record!.ReadFields().All.Count;
            _ = AuditFields.Parse(bytes).All.Count;
        }, iter: 2000);
    }

    [Fact]
    public void Random_text_never_throws_the_reference_finder_or_analyzer()
    {
        Gen.String.Sample(s =>
        {
            _ = DetectionRules.Default.Finder.Find(s);
            _ = DetectionRules.Default.Analyzer.Analyze(["sh", "-c", s]);
            _ = DetectionRules.Default.Analyzer.Analyze(s.Split(' '));
        }, iter: 2000);
    }
}
