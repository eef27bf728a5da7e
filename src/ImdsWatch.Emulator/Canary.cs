namespace ImdsWatch.Emulator;

/// <summary>Values the emulator serves: unmistakable, so a leak of them anywhere is recognised as a test.</summary>
public static class Canary
{
    public const string Marker = "IMDSWATCH-CANARY";
    public const string AwsRole = "imdswatch-canary-role";
    public const string AwsAccessKeyId = "ASIAIMDSWATCHCANARY0";
    public const string AwsSecret = "imdswatch/canary/secret/NOT-A-REAL-KEY/0000000000";
    public const string SessionToken = "IMDSWATCH-CANARY-SESSION-TOKEN-not-a-real-token";
    public const string InstanceId = "i-0imdswatchcanary0";
    public const string AccountId = "000000000000";
    public const string AzureToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.IMDSWATCH-CANARY-azure-managed-identity.";
    public const string GcpToken = "ya29.IMDSWATCH-CANARY-gcp-service-account-token";
    public const string AlibabaRole = "imdswatch-canary-ram-role";
    public const string UserData = "#!/bin/bash\n# IMDSWATCH-CANARY user-data\nexport DB_PASSWORD=imdswatch-canary-password\n";
}
