namespace ImdsWatch.Indicators;

/// <summary>
/// The role (AWS, Alibaba, Oracle: <c>security-credentials/ROLE</c>) or service account (GCP:
/// <c>service-accounts/ACCOUNT</c>) a metadata request names, in a URL or path, percent-encoded or not.
/// </summary>
public static class CredentialPath
{
    private static readonly string[] Markers = ["security-credentials/", "service-accounts/"];
    private static readonly System.Buffers.SearchValues<char> RoleEnd = System.Buffers.SearchValues.Create("/?#& \"'");

    public static string? RoleOf(string? urlOrPath)
    {
        if (string.IsNullOrEmpty(urlOrPath))
            return null;
        // An SSRF carries the metadata URL in a parameter, percent-encoded: read it decoded.
        var text = urlOrPath.Contains('%', StringComparison.Ordinal) ? Unescape(urlOrPath) : urlOrPath;
        foreach (var marker in Markers)
        {
            var at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0)
                continue;
            var rest = text.AsSpan(at + marker.Length);
            var end = rest.IndexOfAny(RoleEnd);
            var role = (end < 0 ? rest : rest[..end]).ToString();
            return role.Length > 0 ? role : null;
        }
        return null;
    }

    private static string Unescape(string s)
    {
        // Twice: a URL inside a query parameter is often encoded once more.
        var once = Uri.UnescapeDataString(s);
        return once.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(once) : once;
    }
}
