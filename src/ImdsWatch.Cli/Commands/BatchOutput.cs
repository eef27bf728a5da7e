using System.Text;

namespace ImdsWatch.Cli.Commands;

/// <summary>
/// Console.Out flushes on every write: into a pipe or a file, a command that prints thousands of lines would make
/// thousands of system calls. A command that prints once and ends writes through one buffer instead (commands
/// that stream, like emulate and run --follow, keep Console.Out so each line leaves at once).
/// </summary>
internal sealed class BatchOutput : IDisposable
{
    private readonly StreamWriter? _buffer;

    public BatchOutput(TextWriter stdout)
    {
        _buffer = ReferenceEquals(stdout, Console.Out) && Console.IsOutputRedirected
            ? new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16)
            : null;
        Writer = _buffer ?? stdout;
    }

    public TextWriter Writer { get; }

    public void Dispose()
    {
        Writer.Flush();
        _buffer?.Dispose();
    }
}
