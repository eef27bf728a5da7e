using ImdsWatch.Detection;
using ImdsWatch.Indicators;

namespace ImdsWatch.Anomaly;

/// <summary>
/// The pipeline stage where the baseline changes the detection-layer alerts: a program and user already known on
/// this host for this access class is normal use (silent), except an interactive fetch of credentials, which
/// alerts regardless. What alerts is marked first-seen only when the baseline has not seen the program or the user.
/// </summary>
public sealed class BaselineStage(BaselineSnapshot baseline)
{
    /// <summary>Accesses known to the baseline whose alert was silenced.</summary>
    public int Silenced { get; private set; }

    public MetadataAccess Enrich(MetadataAccess a)
    {
        if (a.Alert is null || baseline.IsEmpty)
            return a;
        var (user, _) = BaselineRepository.UserSubject(a);
        var userKnown = baseline.Knows(a.Host, BaselineEntry.User, user, a.Access);
        var programKnown = baseline.Knows(a.Host, BaselineEntry.Program, a.ProgramKey, a.Access);
        var interactiveCredentials = a.Interactive && a.Access == AccessClass.Credentials;
        if (userKnown && programKnown && !interactiveCredentials)
        {
            Silenced++;
            return a with { Alert = null };
        }
        var tags = a.Alert.Tags.Where(t => t != "first-seen").ToList();
        var firstSeen = !userKnown || !programKnown;
        if (firstSeen)
            tags.Insert(0, "first-seen");
        if (!programKnown)
            tags.Add("baseline:new-program");
        if (!userKnown)
            tags.Add("baseline:new-user");
        if (userKnown && programKnown)
            tags.Add("baseline:known-but-interactive-credentials");
        return a with { Alert = a.Alert with { FirstSeen = firstSeen, Tags = tags } };
    }
}
