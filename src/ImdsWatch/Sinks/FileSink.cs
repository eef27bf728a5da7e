using ImdsWatch.Alerts;
using ImdsWatch.Alerts.Output;

namespace ImdsWatch.Sinks;

/// <summary>
/// Alerts as NDJSON appended to a file (mode 0600), rotated by size: at <see cref="SinkSettings.MaxFileBytes"/> the
/// file becomes <c>.1</c>, <c>.1</c> becomes <c>.2</c>, …, keeping <see cref="SinkSettings.MaxFiles"/> old files.
/// Each alert is flushed to the kernel as it is written.
/// </summary>
public sealed class FileSink(SinkSettings settings) : IAlertSink, IDisposable
{
    private readonly string _path = settings.Target ?? throw new InvalidDataException("file: a path is required");
    private StreamWriter? _writer;

    public void Emit(Alert alert)
    {
        if (alert.Severity < settings.MinimumSeverity)
            return;
        var writer = _writer ??= Open();
        writer.Write(NdjsonAlertWriter.ToJson(alert, DateTimeOffset.UtcNow));
        writer.Write('\n');
        writer.Flush();
        if (writer.BaseStream.Length >= settings.MaxFileBytes)
            Rotate();
    }

    public void Complete() => _writer?.Flush();

    private StreamWriter Open()
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(_path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new StreamWriter(new FileStream(_path, options));
    }

    private void Rotate()
    {
        _writer?.Dispose();
        _writer = null;
        File.Delete($"{_path}.{settings.MaxFiles}");
        for (var n = settings.MaxFiles - 1; n >= 1; n--)
        {
            if (File.Exists($"{_path}.{n}"))
                File.Move($"{_path}.{n}", $"{_path}.{n + 1}");
        }
        if (settings.MaxFiles >= 1)
            File.Move(_path, $"{_path}.1");
        else
            File.Delete(_path);
    }

    public void Dispose() => _writer?.Dispose();
}
