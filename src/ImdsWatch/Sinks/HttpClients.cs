using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace ImdsWatch.Sinks;

/// <summary>The HTTP client of an HTTP sink: its TLS options (a private CA, or no verification for tests).</summary>
internal static class HttpClients
{
    public static HttpClient Create(SinkSettings settings)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), ConnectTimeout = settings.Timeout };
        if (settings.InsecureSkipVerify)
        {
#pragma warning disable CA5359 // the operator asked for it (insecure_skip_verify: true), for test receivers only
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else if (settings.CaFile is { } caFile)
        {
            var ca = X509CertificateLoader.LoadCertificateFromFile(caFile);
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                    return false;
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan }; // the resilience pipeline times each attempt
    }

    /// <summary>Throws with the status and the start of the body unless the receiver said 2xx.</summary>
    public static async Task EnsureAccepted(HttpResponseMessage response, CancellationToken cancellation)
    {
        if (response.IsSuccessStatusCode)
            return;
        var body = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        throw new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase}: {(body.Length > 200 ? body[..200] : body)}", null, response.StatusCode);
    }
}
