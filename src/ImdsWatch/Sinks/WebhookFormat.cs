namespace ImdsWatch.Sinks;

/// <summary>The body of a webhook request (the <c>format:</c> of a webhook sink).</summary>
public enum WebhookFormat
{
    /// <summary>A JSON array of the batch's alerts (<c>application/json</c>); the default.</summary>
    Array,

    /// <summary>One alert per line (<c>application/x-ndjson</c>).</summary>
    Ndjson,

    /// <summary>One alert per request, the bare object, for receivers that take one (chat hooks): no batching.</summary>
    OnePerRequest,
}
