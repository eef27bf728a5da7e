using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImdsWatch.Alerts;

namespace ImdsWatch.Store;

/// <summary>
/// An alert as the state store keeps it: the alert itself, not an output format, under a version number. A
/// change to <see cref="Alert"/> that older records cannot be read as bumps <see cref="CurrentVersion"/>.
/// </summary>
public sealed record AlertRecord(int RecordVersion, Alert Alert)
{
    public const int CurrentVersion = 1;

    public static string Serialize(Alert alert) =>
        JsonSerializer.Serialize(new AlertRecord(CurrentVersion, alert), AlertRecordJson.Default.AlertRecord);

    /// <summary>The alert of a stored record; null for a record of another version or one that is not a record.</summary>
    public static Alert? Deserialize(string json)
    {
        try
        {
            var record = JsonSerializer.Deserialize(json, AlertRecordJson.Default.AlertRecord);
            return record?.RecordVersion == CurrentVersion ? record.Alert : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, UseStringEnumConverter = true,
    Converters = [typeof(IPAddressJsonConverter)])]
[JsonSerializable(typeof(AlertRecord))]
internal sealed partial class AlertRecordJson : JsonSerializerContext;

/// <summary>An IP address as its text.</summary>
internal sealed class IPAddressJsonConverter : JsonConverter<IPAddress>
{
    public override IPAddress? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetString() is { } s && IPAddress.TryParse(s, out var ip) ? ip : null;

    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
