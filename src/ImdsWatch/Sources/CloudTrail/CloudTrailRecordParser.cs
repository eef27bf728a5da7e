using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ImdsWatch.Events;

namespace ImdsWatch.Sources.CloudTrail;

/// <summary>
/// Turns one JSON value of a CloudTrail file into <see cref="ApiCall"/>s: a record, an EventBridge envelope
/// (the record under "detail"), a <c>{"Records":[…]}</c> object (a line of NDJSON), a CloudTrail Lake result
/// (<c>QueryResultRows</c> of single-key objects), or an Athena export (lower-case keys, requestParameters as JSON
/// text). Records that cannot matter to any CloudTrail rule are counted and passed over after a few vectorized
/// byte searches; only the others are parsed field by field. A bad record is an issue, never an exception.
/// </summary>
internal sealed class CloudTrailRecordParser(string file, StringPool strings)
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 256 };

    private readonly RecordFields _fields = new();

    /// <summary>Records seen (also those passed over).</summary>
    public long Records { get; private set; }

    /// <summary>Records that could not be read (broken JSON, not an event), of <see cref="Records"/>.</summary>
    public long Unreadable { get; private set; }

    /// <summary>Records parsed field by field (those that could matter).</summary>
    public long Parsed { get; private set; }

    /// <summary>A record the reader could not delimit (broken JSON): counted, and reported with its ordinal.</summary>
    public void Broken(long line, string reason, ReadIssueHandler onIssue)
    {
        Records++;
        Unreadable++;
        onIssue(line, $"record {Records}: {reason}");
    }

    public void Parse(ReadOnlySpan<byte> value, long line, Action<ApiCall> onCall, ReadIssueHandler onIssue, bool inRecords = false)
    {
        if (value.IsEmpty || value[0] != (byte)'{')
        {
            Records++;
            Unreadable++;
            onIssue(line, $"record {Records}: not a JSON object");
            return;
        }
        if (!MayMatter(value, inRecords))
        {
            Records++;
            return;
        }
        try
        {
            ParseObject(value, line, onCall, onIssue);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            // A lone surrogate escape ("\ud800"), an unreadable number, a string where an object was expected …
            Records++;
            Unreadable++;
            onIssue(line, $"record {Records}: unreadable field: {(e is JsonException j ? CloudTrailReader.Describe(j) : e.Message)}");
        }
    }

    /// <summary>
    /// Can this value matter? The rules look at instance-profile sessions (":i-…" in principalId, "/i-…" in the
    /// ARN), at people (IAMUser, Root, SAML/web-identity/Identity Center users, console sessions) and at the seed's
    /// GetSessionToken. Anything with an escape, a nested list or no eventName at all is parsed too (to be
    /// checked and reported properly).
    /// </summary>
    internal static bool MayMatter(ReadOnlySpan<byte> v, bool inRecords = false)
    {
        if (v.IndexOf(":i-"u8) >= 0 || v.IndexOf("/i-"u8) >= 0 || v.IndexOf((byte)'\\') >= 0)
            return true;
        if (v.IndexOf("\"eventName\""u8) < 0 && v.IndexOf("\"eventname\""u8) < 0)
            return true; // not a record as it stands: a wrapper, an export row, or not CloudTrail at all
        return v.IndexOf("User\""u8) >= 0 || v.IndexOf("\"Root\""u8) >= 0 || v.IndexOf("onsole"u8) >= 0 || v.IndexOf("GetSessionToken"u8) >= 0
            || (!inRecords && (v.IndexOf("Records\""u8) >= 0 || v.IndexOf("QueryResultRows"u8) >= 0));
    }

    private void ParseObject(ReadOnlySpan<byte> value, long line, Action<ApiCall> onCall, ReadIssueHandler onIssue)
    {
        var reader = new Utf8JsonReader(value, isFinalBlock: true, new JsonReaderState(Options));
        reader.Read();
        var f = _fields;
        f.Reset();
        var nested = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (Ascii.EqualsIgnoreCase(name, "Records"u8) && reader.TokenType == JsonTokenType.StartArray)
            {
                nested = true;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    Parse(value[start..(int)reader.BytesConsumed], line, onCall, onIssue);
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "QueryResultRows"u8) && reader.TokenType == JsonTokenType.StartArray)
            {
                nested = true;
                ReadLakeRows(ref reader, line, onCall, onIssue);
            }
            else
            {
                ReadField(ref reader, Scope.Record, name, f);
            }
        }
        if (nested)
            return; // a wrapper: its records were counted one by one
        Records++;
        Emit(f, line, onCall, onIssue);
    }

    /// <summary>CloudTrail Lake's GetQueryResults: each row a list of {"column": value} objects.</summary>
    private void ReadLakeRows(ref Utf8JsonReader reader, long line, Action<ApiCall> onCall, ReadIssueHandler onIssue)
    {
        var f = _fields;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
        {
            f.Reset();
            while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var column = reader.ValueSpan;
                    reader.Read();
                    var dot = column.LastIndexOf((byte)'.');
                    var scope = dot < 0 ? Scope.Record : ScopeOfPath(column[..dot]);
                    ReadField(ref reader, scope, dot < 0 ? column : column[(dot + 1)..], f);
                }
            }
            Records++;
            Emit(f, line, onCall, onIssue);
        }
    }

    private static Scope ScopeOfPath(ReadOnlySpan<byte> path)
    {
        var dot = path.LastIndexOf((byte)'.');
        var last = dot < 0 ? path : path[(dot + 1)..];
        return Ascii.EqualsIgnoreCase(last, "userIdentity"u8) ? Scope.Identity
            : Ascii.EqualsIgnoreCase(last, "sessionContext"u8) ? Scope.Session
            : Ascii.EqualsIgnoreCase(last, "sessionIssuer"u8) ? Scope.Issuer
            : Ascii.EqualsIgnoreCase(last, "requestParameters"u8) ? Scope.Request
            : Scope.Other;
    }

    /// <summary>One property of an object in the given scope; objects the rules need are walked into.</summary>
    private void ReadField(ref Utf8JsonReader reader, Scope scope, ReadOnlySpan<byte> name, RecordFields f)
    {
        var child = scope switch
        {
            Scope.Record when Ascii.EqualsIgnoreCase(name, "userIdentity"u8) => Scope.Identity,
            Scope.Record when Ascii.EqualsIgnoreCase(name, "requestParameters"u8) => Scope.Request,
            Scope.Record when Ascii.EqualsIgnoreCase(name, "detail"u8) => Scope.Record, // an EventBridge envelope
            Scope.Identity when Ascii.EqualsIgnoreCase(name, "sessionContext"u8) => Scope.Session,
            Scope.Session when Ascii.EqualsIgnoreCase(name, "sessionIssuer"u8) => Scope.Issuer,
            _ => Scope.Other,
        };
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            if (child == Scope.Other)
            {
                reader.Skip();
                return;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var inner = reader.ValueSpan;
                reader.Read();
                ReadField(ref reader, child, inner, f);
            }
            return;
        }
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            if (scope == Scope.Request && Ascii.EqualsIgnoreCase(name, "instanceIds"u8))
                ReadInstanceIds(ref reader, f);
            else
                reader.Skip();
            return;
        }
        if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number))
            return;
        if (child == Scope.Request && reader.TokenType == JsonTokenType.String)
        {
            ReadRequestText(reader.GetString(), f); // Athena keeps requestParameters as JSON text
            return;
        }
        switch (scope)
        {
            case Scope.Record:
                ReadRecordField(ref reader, name, f);
                break;
            case Scope.Identity:
                if (Ascii.EqualsIgnoreCase(name, "type"u8)) f.IdentityType = Pooled(ref reader);
                else if (Ascii.EqualsIgnoreCase(name, "principalId"u8)) f.PrincipalId = Text(ref reader);
                else if (Ascii.EqualsIgnoreCase(name, "arn"u8)) f.Arn = Text(ref reader);
                else if (Ascii.EqualsIgnoreCase(name, "accountId"u8)) f.AccountId = Pooled(ref reader);
                else if (Ascii.EqualsIgnoreCase(name, "accessKeyId"u8)) f.AccessKeyId = Text(ref reader);
                break;
            case Scope.Session:
                if (Ascii.EqualsIgnoreCase(name, "ec2RoleDelivery"u8)) f.Delivery = Pooled(ref reader);
                break;
            case Scope.Issuer:
                if (Ascii.EqualsIgnoreCase(name, "arn"u8)) f.IssuerArn = Pooled(ref reader);
                else if (Ascii.EqualsIgnoreCase(name, "userName"u8)) f.IssuerName = Pooled(ref reader);
                break;
            case Scope.Request:
                if (Ascii.EqualsIgnoreCase(name, "roleArn"u8)) f.RequestRoleArn = Text(ref reader);
                else if (Ascii.EqualsIgnoreCase(name, "roleSessionName"u8)) f.RequestRoleSessionName = Text(ref reader);
                break;
        }
    }

    private void ReadRecordField(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, RecordFields f)
    {
        if (Ascii.EqualsIgnoreCase(name, "eventTime"u8) || (name.SequenceEqual("@timestamp"u8) && f.Time is null))
            f.Time = reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var t) ? t : ParseTime(reader.GetString());
        else if (Ascii.EqualsIgnoreCase(name, "eventName"u8)) f.EventName = Pooled(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "eventSource"u8)) f.EventSource = Pooled(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "sourceIPAddress"u8)) f.SourceIp = Text(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "userAgent"u8)) f.UserAgent = Pooled(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "eventID"u8)) f.EventId = reader.TokenType == JsonTokenType.String ? reader.GetString() : Pooled(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "vpcEndpointId"u8)) f.VpcEndpointId = Text(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "errorCode"u8)) f.ErrorCode = Pooled(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "awsRegion"u8)) f.Region = Pooled(ref reader);
        else if (Ascii.EqualsIgnoreCase(name, "recipientAccountId"u8)) f.RecipientAccountId = Pooled(ref reader);
    }

    private static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private void ReadInstanceIds(ref Utf8JsonReader reader, RecordFields f)
    {
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String && f.InstanceIds.Count < 64)
                f.InstanceIds.Add(Pooled(ref reader));
            else if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                reader.Skip();
        }
    }

    private void ReadRequestText(string? text, RecordFields f)
    {
        if (text is null || !text.AsSpan().TrimStart().StartsWith("{", StringComparison.Ordinal))
            return;
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), isFinalBlock: true, new JsonReaderState(Options));
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            ReadField(ref reader, Scope.Request, name, f);
        }
    }

    /// <summary>A value that differs from record to record (addresses, keys, principals): decoded, not pooled.</summary>
    private static string Text(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);

    /// <summary>A value that recurs (event names, sources, regions, roles, accounts, agents): one string per value.</summary>
    private string Pooled(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && reader.ValueIsEscaped ? strings.Get(reader.GetString()!)
        : strings.Get(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);

    private void Emit(RecordFields f, long line, Action<ApiCall> onCall, ReadIssueHandler onIssue)
    {
        if (f.Time is not { } time || f.EventName is null)
        {
            Unreadable++;
            onIssue(line, $"record {Records}: not a CloudTrail event (no eventName or eventTime)");
            return;
        }
        Parsed++;
        var eventId = f.EventId ?? $"{file}#{Records}";
        onCall(new ApiCall
        {
            Timestamp = time,
            EventId = eventId,
            EventName = f.EventName,
            EventSource = f.EventSource ?? "",
            SourceIp = f.SourceIp,
            UserAgent = f.UserAgent,
            IdentityType = f.IdentityType,
            PrincipalId = f.PrincipalId,
            Arn = f.Arn,
            AccountId = f.AccountId ?? f.RecipientAccountId,
            AccessKeyId = f.AccessKeyId,
            SessionIssuerArn = f.IssuerArn,
            SessionIssuerName = f.IssuerName,
            Ec2RoleDelivery = f.Delivery,
            VpcEndpointId = f.VpcEndpointId,
            ErrorCode = f.ErrorCode,
            Region = f.Region,
            RequestRoleArn = f.RequestRoleArn,
            RequestRoleSessionName = f.RequestRoleSessionName,
            RequestInstanceIds = f.InstanceIds.Count == 0 ? [] : [.. f.InstanceIds],
            Evidence = new EvidenceRef(file, line, string.Create(CultureInfo.InvariantCulture, $"cloudtrail:{eventId} (record {Records})")),
        });
    }

    private enum Scope
    {
        Record,
        Identity,
        Session,
        Issuer,
        Request,
        Other,
    }

    /// <summary>The fields of the record being read; one instance, reset per record.</summary>
    private sealed class RecordFields
    {
        public DateTimeOffset? Time;
        public string? EventName, EventSource, SourceIp, UserAgent, EventId, VpcEndpointId, ErrorCode, Region, RecipientAccountId;
        public string? IdentityType, PrincipalId, Arn, AccountId, AccessKeyId, IssuerArn, IssuerName, Delivery;
        public string? RequestRoleArn, RequestRoleSessionName;
        public readonly List<string> InstanceIds = [];

        public void Reset()
        {
            Time = null;
            EventName = EventSource = SourceIp = UserAgent = EventId = VpcEndpointId = ErrorCode = Region = RecipientAccountId = null;
            IdentityType = PrincipalId = Arn = AccountId = AccessKeyId = IssuerArn = IssuerName = Delivery = null;
            RequestRoleArn = RequestRoleSessionName = null;
            InstanceIds.Clear();
        }
    }
}
