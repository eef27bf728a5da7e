namespace ImdsWatch.Sinks;

/// <summary>The receiver took part of a batch and refused the rest for now: the rest is retried with backoff.</summary>
public sealed class PartialDeliveryException : Exception
{
    public PartialDeliveryException()
    {
    }

    public PartialDeliveryException(string message)
        : base(message)
    {
    }

    public PartialDeliveryException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
