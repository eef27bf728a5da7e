using System.Text;
using ImdsWatch.Sources.Auditd;

namespace ImdsWatch.Tests.Sources;

public sealed class AuditEventAssemblerTests
{
    private static List<AuditEvent> Assemble(string text, Action<AuditEventAssembler>? configure = null, bool flush = true)
    {
        var events = new List<AuditEvent>();
        var assembler = new AuditEventAssembler(events.Add);
        var parser = new AuditRecordParser();
        var n = 0;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.True(parser.TryParse(Encoding.UTF8.GetBytes(line), 0, ++n, out var r, out var e), e);
            assembler.Add(r!);
        }
        if (flush)
            assembler.Flush();
        return events;
    }

    [Fact]
    public void Records_with_one_serial_form_one_event_and_EOE_completes_it()
    {
        var events = Assemble("""
            type=SYSCALL msg=audit(1.000:5): syscall=42
            type=SOCKADDR msg=audit(1.000:5): saddr=00
            type=EOE msg=audit(1.000:5):
            """, flush: false);
        var e = Assert.Single(events);
        Assert.Equal(2, e.Records.Count);
    }

    [Fact]
    public void A_daemon_record_with_the_serial_of_a_coming_kernel_event_leaves_that_event_whole()
    {
        // Seen in a live capture: auditd's DAEMON_START carried serial 9570, and the kernel's exec 9570 (curl to the
        // metadata service) came later; it was taken for late fragments of the daemon's event and lost.
        var events = Assemble("""
            type=DAEMON_START msg=audit(1.000:9570): op=start ver=3.0.9 format=enriched res=success
            type=SYSCALL msg=audit(6.000:9569): syscall=59 pid=1
            type=EXECVE msg=audit(6.000:9569): argc=1 a0="sh"
            type=SYSCALL msg=audit(6.001:9570): syscall=59 pid=2
            type=EXECVE msg=audit(6.001:9570): argc=2 a0="curl" a1="http://169.254.170.2/v2/credentials/x"
            type=PROCTITLE msg=audit(6.001:9570): proctitle=6375726C
            type=SYSCALL msg=audit(6.002:9571): syscall=42 pid=2
            """);
        var exec = Assert.Single(events, e => e.Serial == 9570 && e.Records.Any(r => r.Type == AuditRecordType.Execve));
        Assert.Equal(3, exec.Records.Count);
        Assert.False(exec.IsLateFragment);
        Assert.Single(events, e => e.Records.Any(r => r.Type == 1200));
        Assert.Equal(4, events.Count);
    }

    [Fact]
    public void Interleaved_events_are_kept_apart()
    {
        var events = Assemble("""
            type=SYSCALL msg=audit(1.000:5): syscall=42
            type=SYSCALL msg=audit(1.000:6): syscall=59
            type=SOCKADDR msg=audit(1.000:5): saddr=00
            type=EXECVE msg=audit(1.000:6): argc=1 a0="ls"
            """);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(2, e.Records.Count));
    }

    [Fact]
    public void Without_EOE_an_event_is_completed_by_later_serials_and_never_lost()
    {
        var lines = new StringBuilder();
        for (ulong s = 1; s <= 400; s++)
            lines.AppendLine($"type=SYSCALL msg=audit(1.000:{s}): syscall=59\ntype=PROCTITLE msg=audit(1.000:{s}): proctitle=6C73");
        var events = new List<AuditEvent>();
        var assembler = new AuditEventAssembler(events.Add);
        var parser = new AuditRecordParser();
        foreach (var line in lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            parser.TryParse(Encoding.UTF8.GetBytes(line), 0, 1, out var r, out _);
            assembler.Add(r!);
        }
        Assert.NotEmpty(events); // completed while reading, not only at the end
        assembler.Flush();
        Assert.Equal(400, events.Count);
        Assert.All(events, e => Assert.Equal(2, e.Records.Count));
    }

    [Fact]
    public void Standalone_user_messages_complete_at_once()
    {
        var events = Assemble("type=USER_LOGIN msg=audit(1.000:9): pid=1 uid=0 msg='op=login acct=\"root\" res=success'", flush: false);
        Assert.Single(events);
    }

    [Fact]
    public void Same_serial_on_two_nodes_is_two_events()
    {
        var events = Assemble("""
            node=a type=SYSCALL msg=audit(1.000:5): syscall=42
            node=b type=SYSCALL msg=audit(1.000:5): syscall=42
            node=a type=SOCKADDR msg=audit(1.000:5): saddr=00
            """);
        Assert.Equal(2, events.Count);
        Assert.Equal(2, events.Single(e => e.Node == "a").Records.Count);
    }

    /// <summary>Open events are found by node and serial whichever node came last (the node's hash is kept for the last one).</summary>
    [Fact]
    public void Nodes_taking_turns_with_the_same_serials_keep_their_events_apart()
    {
        var lines = new StringBuilder();
        for (var serial = 1; serial <= 50; serial++)
        {
            foreach (var node in new[] { "a", "b", "a-long-host-name", "" })
            {
                var prefix = node.Length == 0 ? "" : $"node={node} ";
                lines.Append(prefix).Append("type=SYSCALL msg=audit(1.000:").Append(serial).Append("): syscall=42\n");
            }
            foreach (var node in new[] { "", "a-long-host-name", "b", "a" })
            {
                var prefix = node.Length == 0 ? "" : $"node={node} ";
                lines.Append(prefix).Append("type=SOCKADDR msg=audit(1.000:").Append(serial).Append("): saddr=00\n");
            }
        }
        var events = Assemble(lines.ToString());
        Assert.Equal(200, events.Count);
        Assert.All(events, e => Assert.Equal(2, e.Records.Count));
        Assert.Equal(200, events.Select(e => (e.Node, e.Serial)).Distinct().Count());
    }

    [Fact]
    public void A_record_after_its_event_was_completed_is_kept_as_a_fragment()
    {
        var events = new List<AuditEvent>();
        var assembler = new AuditEventAssembler(events.Add);
        var parser = new AuditRecordParser();
        foreach (var line in new[] { "type=SYSCALL msg=audit(1.000:5): syscall=42", "type=EOE msg=audit(1.000:5):", "type=PROCTITLE msg=audit(1.000:5): proctitle=6C73" })
        {
            parser.TryParse(Encoding.UTF8.GetBytes(line), 0, 1, out var r, out _);
            assembler.Add(r!);
        }
        assembler.Flush();
        Assert.Equal(2, events.Count);
        Assert.True(events[1].IsLateFragment);
        Assert.Equal(1, assembler.LateRecords);
    }

    [Theory]
    [InlineData(5UL, 4UL, true)]
    [InlineData(4UL, 5UL, false)]
    [InlineData(0UL, 4294967295UL, true)] // rollover: 0 comes after 2^32-1
    [InlineData(4294967295UL, 0UL, false)]
    [InlineData(7UL, 7UL, false)]
    public void Serial_order_allows_for_the_32_bit_wrap(ulong a, ulong b, bool later) =>
        Assert.Equal(later, AuditEventAssembler.IsLater(a, b));
}
