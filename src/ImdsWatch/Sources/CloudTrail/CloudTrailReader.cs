using System.Buffers;
using System.Text.Json;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// Told of each record value: its bytes (brackets and strings balanced), the line it starts on, and whether it is
/// an element of a Records list (then a record, never a wrapper of more).
/// </summary>
internal delegate void RecordValueHandler(ReadOnlySpan<byte> value, long line, bool inRecords);

/// <summary>Told of each part of a file that could not be read: the line it starts on and why.</summary>
internal delegate void ReadIssueHandler(long line, string reason);

/// <summary>
/// Splits a decompressed CloudTrail stream into record values without holding more than one record (and a read
/// buffer) in memory: <c>{"Records":[…]}</c> on one line or pretty-printed, a top-level array (Athena, Lake and
/// console exports, Stratus Red Team), and any sequence of top-level JSON values (NDJSON of records, of Records
/// files or of EventBridge envelopes; one event alone). The punctuation between records (the array brackets,
/// commas, the Records wrapper) is walked by hand, each value by <see cref="Utf8JsonReader"/>, so that after a
/// broken record the reader can resume at the next one instead of losing the file.
/// </summary>
internal sealed class CloudTrailReader(Stream stream) : IDisposable
{
    /// <summary>A single value larger than this is skipped with an issue: memory stays bounded whatever the file.</summary>
    public const int MaxValueBytes = 64 << 20;

    private const int InitialBuffer = 1 << 20;

    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    private int _pos;
    private int _end;
    private bool _eof;
    private int _counted; // newlines are counted in _buffer[.._counted]
    private long _newlines;
    private long _ordinal;
    private bool _startChecked;
    private byte[] _resyncKey = "\"eventVersion\""u8.ToArray();
    private ReadIssueHandler _onBroken = (_, _) => { };

    /// <summary>Bytes read from the (decompressed) stream.</summary>
    public long BytesRead { get; private set; }

    /// <summary>
    /// Hands out every value; a value that cannot be read goes to <paramref name="onBroken"/> (it is a record that
    /// could not be read), problems of the file around the values to <paramref name="onIssue"/>.
    /// </summary>
    public void ReadAll(RecordValueHandler onValue, ReadIssueHandler onBroken, ReadIssueHandler onIssue)
    {
        _onBroken = onBroken;
        var recovering = false;
        while (SkipWhitespace())
        {
            var b = _buffer[_pos];
            if (recovering && b is not ((byte)'{' or (byte)'['))
            {
                SkipPastNewline(); // the rest of a value already reported as broken
                continue;
            }
            recovering = false;
            if (b == (byte)'[')
            {
                _pos++;
                ReadList(onValue, onIssue, closesWrapper: false);
            }
            else if (b == (byte)'{' && TryEnterRecordsList())
            {
                ReadList(onValue, onIssue, closesWrapper: true);
            }
            else
            {
                var line = LineAt(_pos);
                if (!ReadOneValue(onValue, line, topLevel: true, inRecords: false))
                {
                    SkipPastNewline(); // a line that is not JSON: NDJSON goes on at the next line
                    recovering = true;
                }
            }
        }
    }

    /// <summary>Elements of an array, up to its closing bracket (and the rest of a Records wrapper).</summary>
    private void ReadList(RecordValueHandler onValue, ReadIssueHandler onIssue, bool closesWrapper)
    {
        while (true)
        {
            if (!SkipWhitespace())
            {
                onIssue(LineAt(_pos), $"the file ends inside the list of records after record {_ordinal} (truncated?)");
                return;
            }
            var b = _buffer[_pos];
            if (b == (byte)',')
            {
                _pos++;
                continue;
            }
            if (b == (byte)']')
            {
                _pos++;
                if (closesWrapper)
                    SkipRestOfWrapper(onIssue);
                return;
            }
            var line = LineAt(_pos);
            if (!ReadOneValue(onValue, line, topLevel: false, inRecords: closesWrapper) && !Resync(onIssue, line))
                return;
        }
    }

    /// <summary>After the Records array: usually just "}", but other keys are skipped as whole values.</summary>
    private void SkipRestOfWrapper(ReadIssueHandler onIssue)
    {
        while (SkipWhitespace())
        {
            var b = _buffer[_pos];
            if (b == (byte)'}')
            {
                _pos++;
                return;
            }
            if (b is (byte)',' or (byte)':')
            {
                _pos++;
                continue;
            }
            if (TryReadValue(false, out var length, out var error))
            {
                _pos += length;
                continue;
            }
            onIssue(LineAt(_pos), $"after the Records list: {error}");
            SkipPastNewline();
            return;
        }
    }

    /// <summary>One value (a record, an envelope, a Records object inside NDJSON …) handed to the caller.</summary>
    private bool ReadOneValue(RecordValueHandler onValue, long line, bool topLevel, bool inRecords)
    {
        if (!TryReadValue(topLevel, out var length, out var error))
        {
            _ordinal++;
            _onBroken(line, error);
            return false;
        }
        _ordinal++;
        var value = _buffer.AsSpan(_pos, length);
        RememberFirstKey(value);
        onValue(value, line, inRecords);
        _pos += length;
        return true;
    }

    /// <summary>
    /// After a broken record inside a list: go on at the next record, found by the key records of this file start
    /// with (CloudTrail writes "eventVersion" first; exports keep their own order, learned from the last good
    /// record). Returns false when there is none (the rest of the file is reported once).
    /// </summary>
    private bool Resync(ReadIssueHandler onIssue, long line)
    {
        _pos++;
        while (true)
        {
            var found = _buffer.AsSpan(_pos, _end - _pos).IndexOf(_resyncKey);
            if (found >= 0)
            {
                var brace = _buffer.AsSpan(_pos, found).LastIndexOf((byte)'{');
                if (brace >= 0 && _buffer.AsSpan(_pos + brace + 1, found - brace - 1).IndexOfAnyExcept(" \t\r\n"u8) < 0)
                {
                    _pos += brace;
                    return true;
                }
                _pos += found + _resyncKey.Length;
                continue;
            }
            if (_eof)
            {
                onIssue(line, "no further record could be found after the invalid one: the rest of the file is skipped");
                _pos = _end;
                return false;
            }
            var keep = Math.Min(_end - _pos, _resyncKey.Length + 64); // a key split by the refill
            _pos = _end - keep;
            Refill(grow: false);
        }
    }

    private void RememberFirstKey(ReadOnlySpan<byte> value)
    {
        if (value.Length < 2 || value[0] != (byte)'{')
            return;
        var rest = value[1..];
        var start = rest.IndexOfAnyExcept(" \t\r\n"u8);
        if (start < 0 || rest[start] != (byte)'"')
            return;
        var close = rest[(start + 1)..].IndexOf((byte)'"');
        if (close <= 0 || close > 64 || (close + 2 == _resyncKey.Length && rest.Slice(start, close + 2).SequenceEqual(_resyncKey)))
            return;
        _resyncKey = rest.Slice(start, close + 2).ToArray();
    }

    /// <summary>Does the object at the current position start with "Records": [ ? Then go past the bracket.</summary>
    private bool TryEnterRecordsList()
    {
        Ensure(256);
        var span = _buffer.AsSpan(_pos + 1, _end - _pos - 1);
        var i = span.IndexOfAnyExcept(" \t\r\n"u8);
        if (i < 0 || !span[i..].StartsWith("\"Records\""u8))
            return false;
        i += 9;
        var colon = span[i..].IndexOfAnyExcept(" \t\r\n"u8);
        if (colon < 0 || span[i + colon] != (byte)':')
            return false;
        i += colon + 1;
        var bracket = span[i..].IndexOfAnyExcept(" \t\r\n"u8);
        if (bracket < 0 || span[i + bracket] != (byte)'[')
            return false;
        _pos += 1 + i + bracket + 1;
        return true;
    }

    /// <summary>
    /// The length of the complete JSON value at the current position, reading more of the stream as needed. An
    /// object's structure is checked here; its content when it is parsed (<see cref="CloudTrailRecordParser"/>).
    /// </summary>
    private bool TryReadValue(bool lineStartsValue, out int length, out string error)
    {
        while (true)
        {
            var found = _buffer[_pos] is (byte)'{' or (byte)'['
                ? JsonExtent.Find(_buffer.AsSpan(_pos, _end - _pos), lineStartsValue, out length, out error)
                : ReadScalar(out length, out error);
            if (found == JsonExtent.Result.Complete)
                return true;
            if (found == JsonExtent.Result.Invalid)
            {
                error = "not valid JSON: " + error;
                return false;
            }
            if (_eof)
            {
                length = 0;
                error = "the file ends inside this record (truncated?)";
                return false;
            }
            if (_end - _pos >= MaxValueBytes)
            {
                length = 0;
                error = $"a single value larger than {MaxValueBytes >> 20} MB: skipped";
                return false;
            }
            Refill(grow: true);
        }
    }

    /// <summary>A string, number or literal where a record was expected (read to be reported, not used).</summary>
    private JsonExtent.Result ReadScalar(out int length, out string error)
    {
        var reader = new Utf8JsonReader(_buffer.AsSpan(_pos, _end - _pos), _eof, new JsonReaderState(Options));
        length = 0;
        error = "";
        try
        {
            if (!reader.Read())
                return JsonExtent.Result.Incomplete;
            length = (int)reader.BytesConsumed;
            return JsonExtent.Result.Complete;
        }
        catch (JsonException e)
        {
            error = Describe(e);
            return JsonExtent.Result.Invalid;
        }
    }

    /// <summary>The reader's message without its own position (relative to the value, not the file).</summary>
    internal static string Describe(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0)
            cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        message = (cut > 0 ? message[..cut] : message).TrimEnd(' ', '|', '.');
        return e.LineNumber is > 0 ? $"{message} ({e.LineNumber} line(s) into the record)" : message;
    }

    private bool SkipWhitespace()
    {
        while (true)
        {
            if (!_startChecked)
            {
                Ensure(3);
                _startChecked = true;
                if (_buffer.AsSpan(_pos, _end - _pos).StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
                    _pos += 3;
            }
            var i = _buffer.AsSpan(_pos, _end - _pos).IndexOfAnyExcept(" \t\r\n"u8);
            if (i >= 0)
            {
                _pos += i;
                return true;
            }
            _pos = _end;
            if (_eof)
                return false;
            Refill(grow: false);
        }
    }

    private void SkipPastNewline()
    {
        while (true)
        {
            var i = _buffer.AsSpan(_pos, _end - _pos).IndexOf((byte)'\n');
            if (i >= 0)
            {
                _pos += i + 1;
                return;
            }
            _pos = _end;
            if (_eof)
                return;
            Refill(grow: false);
        }
    }

    /// <summary>The 1-based line of a buffer position; positions asked for never go backwards.</summary>
    private long LineAt(int position)
    {
        if (position > _counted)
        {
            _newlines += _buffer.AsSpan(_counted, position - _counted).Count((byte)'\n');
            _counted = position;
        }
        return _newlines + 1;
    }

    private void Ensure(int bytes)
    {
        while (_end - _pos < bytes && !_eof)
            Refill(grow: false);
    }

    /// <summary>Moves the unread bytes to the front and reads more; grows the buffer when a value fills it.</summary>
    private void Refill(bool grow)
    {
        LineAt(_pos);
        var unread = _end - _pos;
        if (grow && _pos == 0 && _end == _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, MaxValueBytes + InitialBuffer));
            _buffer.AsSpan(0, _end).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        else if (_pos > 0)
        {
            _buffer.AsSpan(_pos, unread).CopyTo(_buffer);
            _counted -= _pos;
            _pos = 0;
            _end = unread;
        }
        while (_end < _buffer.Length)
        {
            var n = stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _eof = true;
                break;
            }
            _end += n;
            BytesRead += n;
        }
    }

    public void Dispose()
    {
        if (_buffer.Length > 0)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        stream.Dispose();
    }
}
