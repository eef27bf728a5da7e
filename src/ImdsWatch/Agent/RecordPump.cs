using System.Threading.Channels;

namespace ImdsWatch.Agent;

/// <summary>
/// Lines of a stream (the auditd plugin's stdin) read on their own thread into a bounded queue, so the writer is
/// never blocked by detection or delivery (auditd-plugins(5): a plugin must keep its input drained). When the
/// queue is full a line is dropped and counted in <see cref="Dropped"/>. The queue completes at end of stream.
/// </summary>
public sealed class RecordPump
{
    private const int MaxLine = 1 << 20;
    private readonly Channel<byte[]> _channel;
    private long _read;
    private long _dropped;

    public RecordPump(int capacity) =>
        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Math.Max(1, capacity)) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    public long Read => Interlocked.Read(ref _read);
    public long Dropped => Interlocked.Read(ref _dropped);
    public ChannelReader<byte[]> Reader => _channel.Reader;

    /// <summary>Starts the reading thread; the queue completes when <paramref name="input"/> ends or fails.</summary>
    public Thread Start(Stream input, Action<string>? onError = null)
    {
        var thread = new Thread(() => Pump(input, onError)) { IsBackground = true, Name = "imdswatch-input" };
        thread.Start();
        return thread;
    }

    private void Pump(Stream input, Action<string>? onError)
    {
        var buffer = new byte[64 * 1024];
        var line = new MemoryStream();
        try
        {
            int n;
            while ((n = input.Read(buffer)) > 0)
            {
                var span = buffer.AsSpan(0, n);
                while (span.Length > 0)
                {
                    var newline = span.IndexOf((byte)'\n');
                    if (newline < 0)
                    {
                        if (line.Length + span.Length <= MaxLine)
                            line.Write(span);
                        break;
                    }
                    line.Write(span[..newline]);
                    Offer(line.ToArray());
                    line.SetLength(0);
                    span = span[(newline + 1)..];
                }
            }
            if (line.Length > 0)
                Offer(line.ToArray());
        }
        catch (IOException e)
        {
            onError?.Invoke($"input: {e.Message}");
        }
        finally
        {
            _channel.Writer.TryComplete();
        }
    }

    private void Offer(byte[] line)
    {
        Interlocked.Increment(ref _read);
        if (!_channel.Writer.TryWrite(line))
            Interlocked.Increment(ref _dropped);
    }
}
