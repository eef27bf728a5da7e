namespace ImdsWatch.Alerts.Output;

/// <summary>Writes alerts in one output format.</summary>
public interface IAlertWriter
{
    void Write(IReadOnlyList<Alert> alerts, TextWriter output);
}
