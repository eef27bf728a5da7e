using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImdsWatch.Events;
using ImdsWatch.Indicators;

namespace ImdsWatch.Alerts.Output;

/// <summary>
/// One JSON object per line in the Elastic Common Schema (8.x), as nested objects; what ECS has no field for is under
/// <c>imds.*</c> (mapped by packaging/elasticsearch/imds-index-template.json).
/// </summary>
public sealed class NdjsonAlertWriter(DateTimeOffset? created = null) : IAlertWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // A slice's buffer and text stay under the large-object threshold (85 KB): a scan with thousands of alerts would
    // otherwise leave megabytes of large-object garbage, freed only by a full collection.
    private const int SliceSize = 8;

    // An alert serializes in a few microseconds: side by side pays only for a batch this large (the table's most severe
    // at the end of a scan). Batches streaming out during a scan are smaller and serialized on the caller's thread: the
    // cores are busy with the scan then, and each pool thread woken for them costs its start and its first heap pages.
    private const int SideBySideFrom = 1024;

    // The batches streaming out, serialized one alert after another into buffers kept for the next batch.
    private readonly Lock _inOrder = new();
    private ArrayBufferWriter<byte>? _buffer;
    private char[] _chars = [];

    /// <summary>
    /// Alerts a line each, in order: a large batch in slices serialized side by side on every core, a smaller one on the
    /// caller's thread without allocating.
    /// </summary>
    public void Write(IReadOnlyList<Alert> alerts, TextWriter output)
    {
        var newline = Encoding.UTF8.GetBytes(output.NewLine);
        if (alerts.Count < SideBySideFrom)
        {
            WriteInOrder(alerts, output, newline);
            return;
        }
        var slices = (alerts.Count + SliceSize - 1) / SliceSize;
        var texts = new string[Math.Clamp(8 * Environment.ProcessorCount, 1, slices)];
        for (var first = 0; first < slices; first += texts.Length)
        {
            var count = Math.Min(texts.Length, slices - first);
            var from = first;
            Parallel.For(0, count, k => texts[k] = Serialize(alerts, (from + k) * SliceSize, newline, created));
            for (var k = 0; k < count; k++)
                output.Write(texts[k]);
        }
    }

    private void WriteInOrder(IReadOnlyList<Alert> alerts, TextWriter output, byte[] newline)
    {
        lock (_inOrder)
        {
            _buffer ??= new ArrayBufferWriter<byte>(4096);
            using var json = new Utf8JsonWriter(_buffer, Options);
            foreach (var alert in alerts)
            {
                _buffer.ResetWrittenCount();
                json.Reset(_buffer);
                WriteAlert(json, alert, created);
                json.Flush();
                _buffer.Write(newline);
                var bytes = _buffer.WrittenSpan;
                if (_chars.Length < bytes.Length) // UTF-8 never needs more chars than bytes
                    _chars = new char[Math.Max(bytes.Length, 2 * _chars.Length)];
                var length = Encoding.UTF8.GetChars(bytes, _chars);
                output.Write(_chars, 0, length);
            }
        }
    }

    /// <summary>Up to <see cref="SliceSize"/> alerts from <paramref name="from"/>, a line each.</summary>
    private static string Serialize(IReadOnlyList<Alert> alerts, int from, byte[] newline, DateTimeOffset? created)
    {
        var buffer = new ArrayBufferWriter<byte>(SliceSize * 4096);
        using var w = new Utf8JsonWriter(buffer, Options);
        for (var i = from; i < Math.Min(alerts.Count, from + SliceSize); i++)
        {
            w.Reset(buffer);
            WriteAlert(w, alerts[i], created);
            w.Flush();
            buffer.Write(newline);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One alert as ECS JSON, without event.created.</summary>
    public static string ToJson(Alert a) => ToJson(a, null);

    /// <summary>One alert as ECS JSON; <paramref name="created"/> is event.created (left out when null, so that two
    /// renderings of the same alert compare equal).</summary>
    public static string ToJson(Alert a, DateTimeOffset? created)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, Options))
            WriteAlert(w, a, created);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteAlert(Utf8JsonWriter w, Alert a, DateTimeOffset? created)
    {
        w.WriteStartObject();
        w.WriteString("@timestamp", Time(a.Timestamp));
        w.WriteStartObject("ecs");
        w.WriteString("version", EcsFields.Version);
        w.WriteEndObject();
        w.WriteString("message", a.Summary);
        WriteStrings(w, "tags", a.Tags);
        WriteEvent(w, a, created);
        EcsFields.WriteRule(w, a);
        EcsFields.WriteObserver(w);
        if (a.Host is not null)
        {
            w.WriteStartObject("host");
            w.WriteString("name", a.Host);
            w.WriteEndObject();
        }
        WriteUser(w, a);
        if (!a.Process.IsNone)
        {
            w.WriteStartObject("auditd");
            w.WriteStartObject("data");
            // Strings, as auditbeat writes them: auid and ses are both "4294967295" when unset.
            WriteOptional(w, "auid", a.Process.User.AuditUid?.ToString(CultureInfo.InvariantCulture));
            WriteOptional(w, "auid_name", a.Process.User.AuditName);
            WriteOptional(w, "euid", a.Process.User.EffectiveUid?.ToString(CultureInfo.InvariantCulture));
            WriteOptional(w, "tty", a.Process.Tty);
            WriteOptional(w, "ses", a.Process.Session);
            w.WriteEndObject();
            w.WriteEndObject();
            WriteProcess(w, a.Process, a.Parent);
        }
        if ((a.Cloud?.SourceIp ?? a.Source) is { } source)
        {
            w.WriteStartObject("source");
            w.WriteString("ip", source);
            w.WriteEndObject();
        }
        if (a.DestinationIp is not null || a.DestinationPort is not null)
        {
            w.WriteStartObject("destination");
            if (a.DestinationIp is not null)
                w.WriteString("ip", a.DestinationIp.ToString());
            WriteOptional(w, "port", a.DestinationPort);
            w.WriteEndObject();
        }
        EcsFields.WriteUrl(w, a.Http?.Target ?? a.Url);
        EcsFields.WriteHttp(w, a.Http);
        if ((a.Http?.UserAgent ?? a.Cloud?.UserAgent) is { } agent)
        {
            w.WriteStartObject("user_agent");
            w.WriteString("original", agent);
            w.WriteEndObject();
        }
        WriteCloud(w, a);
        EcsFields.WriteThreat(w);
        EcsFields.WriteRelated(w, a);
        WriteImds(w, a);
        w.WriteEndObject();
    }

    private static void WriteEvent(Utf8JsonWriter w, Alert a, DateTimeOffset? created)
    {
        w.WriteStartObject("event");
        w.WriteString("kind", "alert");
        // Each alert its own id: two alerts over the same CloudTrail records are still two alerts (the records'
        // eventIDs are in aws.cloudtrail.event_ids).
        w.WriteString("id", a.Id);
        WriteStrings(w, "category", EcsFields.Categories(a));
        WriteStrings(w, "type", ["info"]);
        w.WriteString("action", EcsFields.Action(a.AlertType));
        w.WriteString("dataset", EcsFields.Dataset);
        w.WriteString("module", "imdswatch");
        if (created is not null)
            w.WriteString("created", Time(created.Value));
        w.WriteNumber("risk_score", a.RiskScore);
        w.WriteNumber("severity", (int)a.Severity + 1);
        if (a.Outcome is not null)
            w.WriteString("outcome", a.Outcome == "failure" ? "failure" : a.Outcome == "success" ? "success" : "unknown");
        w.WriteString("reason", a.RiskReasons.Count > 0 ? string.Join("; ", a.RiskReasons) : a.Summary);
        w.WriteEndObject();
    }

    /// <summary>Everything that is not in ECS: how imdswatch sees the alert.</summary>
    private static void WriteImds(Utf8JsonWriter w, Alert a)
    {
        w.WriteStartObject("imds");
        w.WriteString("alert_id", a.Id);
        w.WriteString("alert_type", a.AlertType.ToString());
        w.WriteString("severity", a.Severity.ToString().ToLowerInvariant());
        w.WriteNumber("risk_score", a.RiskScore);
        w.WriteString("access", a.Access.ToWire());
        WriteStrings(w, "layers", a.Layers.Select(l => l.ToWire()));
        if (a.EndpointId is not null)
            w.WriteString("endpoint", a.EndpointId);
        if (a.Url is not null && a.Http is not null)
            w.WriteString("reached_url", a.Url); // the metadata URL inside the request (url.* is the request itself)
        if (a.ProgramKey is not null)
            w.WriteString("program", a.ProgramKey);
        WriteOptional(w, "credential_role", a.CredentialRole);
        w.WriteBoolean("first_seen", a.FirstSeen);
        WriteStrings(w, "risk_reasons", a.RiskReasons);
        w.WriteString("summary", a.Summary);
        if (a.AnomalyScore is not null)
            w.WriteNumber("anomaly_score", a.AnomalyScore.Value);
        if (a.Explanation is not null)
            w.WriteString("explanation", a.Explanation);
        if (a.Ancestors.Count > 0)
        {
            w.WriteStartArray("ancestors");
            foreach (var p in a.Ancestors)
            {
                w.WriteStartObject();
                w.WriteNumber("pid", p.Pid);
                WriteOptional(w, "executable", p.Executable);
                if (p.Args.Count > 0)
                    w.WriteString("command_line", p.CommandLine);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteStartArray("evidence");
        foreach (var e in a.Evidence)
        {
            w.WriteStartObject();
            w.WriteString("kind", e.Kind);
            w.WriteString("file", e.File);
            w.WriteNumber("line", e.Line);
            w.WriteString("record", e.RecordId);
            w.WriteString("detail", e.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteCloud(Utf8JsonWriter w, Alert a)
    {
        if (a.CloudProvider is not null || a.Cloud is not null)
        {
            w.WriteStartObject("cloud");
            WriteOptional(w, "provider", a.CloudProvider ?? (a.Cloud is null ? null : "aws"));
            if (a.Cloud?.AccountId is { } account)
            {
                w.WriteStartObject("account");
                w.WriteString("id", account);
                w.WriteEndObject();
            }
            WriteOptional(w, "region", a.Cloud?.Region);
            if (a.Cloud?.InstanceId is { } instance)
            {
                w.WriteStartObject("instance");
                w.WriteString("id", instance);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        if (a.Cloud is not { } c)
            return;
        w.WriteStartObject("aws");
        w.WriteStartObject("cloudtrail");
        WriteStrings(w, "event_ids", c.EventIds);
        WriteStrings(w, "event_names", c.EventNames);
        WriteOptional(w, "access_key_id", c.AccessKeyId);
        WriteOptional(w, "ec2_role_delivery", c.Delivery);
        if (c.PrincipalArn is not null)
        {
            w.WriteStartObject("user_identity");
            w.WriteString("arn", c.PrincipalArn);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        WriteOptional(w, "role_name", c.RoleName);
        w.WriteEndObject();
    }

    /// <summary>user.*: the process's user; for cloud alerts the name at the end of the ARN (the ARN is under aws.*).</summary>
    private static void WriteUser(Utf8JsonWriter w, Alert a)
    {
        var u = a.Process.User;
        var cloudName = EcsFields.UserNameOf(a.Cloud?.PrincipalArn);
        if (a.Process.IsNone && cloudName is null)
            return;
        w.WriteStartObject("user");
        if (!a.Process.IsNone)
        {
            if (u.Uid is not null)
                w.WriteString("id", u.Uid.Value.ToString(CultureInfo.InvariantCulture));
            WriteOptional(w, "name", u.Name ?? cloudName);
            if (u.EffectiveUid is not null && u.EffectiveUid != u.Uid)
            {
                w.WriteStartObject("effective");
                w.WriteString("id", u.EffectiveUid.Value.ToString(CultureInfo.InvariantCulture));
                WriteOptional(w, "name", u.EffectiveName);
                w.WriteEndObject();
            }
        }
        else
            w.WriteString("name", cloudName);
        w.WriteEndObject();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void WriteProcess(Utf8JsonWriter w, ProcessSnapshot p, ProcessSnapshot? parent)
    {
        w.WriteStartObject("process");
        w.WriteNumber("pid", p.Pid);
        WriteOptional(w, "name", p.Name ?? (p.Executable is null ? null : Path.GetFileName(p.Executable)));
        WriteOptional(w, "executable", p.Executable);
        if (p.Args.Count > 0)
        {
            w.WriteString("command_line", p.CommandLine);
            WriteStrings(w, "args", p.Args);
            w.WriteNumber("args_count", p.Args.Count);
        }
        WriteOptional(w, "working_directory", p.WorkingDirectory);
        if (p.ParentPid is not null || parent is not null)
        {
            w.WriteStartObject("parent");
            WriteOptional(w, "pid", p.ParentPid);
            if (parent is not null)
            {
                WriteOptional(w, "name", parent.Name);
                WriteOptional(w, "executable", parent.Executable);
                if (parent.Args.Count > 0)
                    w.WriteString("command_line", parent.CommandLine);
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
            w.WriteString(name, value);
    }

    private static void WriteOptional(Utf8JsonWriter w, string name, long? value)
    {
        if (value is not null)
            w.WriteNumber(name, value.Value);
    }
}
