namespace ImdsWatch.Indicators;

/// <summary>What a request to the metadata service reached, from most to least sensitive.</summary>
public enum AccessClass
{
    /// <summary>A connection whose request is unknown (no URL in sight).</summary>
    Connect = 0,
    Metadata = 1,
    UserData = 2,
    Token = 3,
    Credentials = 4,
}

public static class AccessClassNames
{
    public static string ToWire(this AccessClass c) => c switch
    {
        AccessClass.Credentials => "credentials",
        AccessClass.Token => "token",
        AccessClass.UserData => "user-data",
        AccessClass.Metadata => "metadata",
        _ => "connect",
    };

    public static AccessClass Parse(string? s) => s switch
    {
        "credentials" => AccessClass.Credentials,
        "token" => AccessClass.Token,
        "user-data" => AccessClass.UserData,
        "metadata" => AccessClass.Metadata,
        _ => AccessClass.Connect,
    };
}
