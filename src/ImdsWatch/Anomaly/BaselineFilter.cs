using ImdsWatch.Alerts;
using ImdsWatch.Detection;
using ImdsWatch.Indicators;

namespace ImdsWatch.Anomaly;

/// <summary>
/// What the baseline changes in the detection-layer alerts: a program and user already known on this host for
/// this access class is normal use (silent), except an interactive fetch of credentials, which alerts
/// regardless. What alerts is marked first-seen only when the baseline has not seen the program or the user.
/// </summary>
public static class BaselineFilter
{
    public static DetectionResult Apply(DetectionResult result, BaselineSnapshot baseline, out int silenced)
    {
        silenced = 0;
        if (baseline.IsEmpty)
            return result;
        var accesses = new List<MetadataAccess>(result.Accesses.Count);
        foreach (var a in result.Accesses)
        {
            if (a.Alert is null)
            {
                accesses.Add(a);
                continue;
            }
            var (user, _) = BaselineRepository.UserSubject(a);
            var userKnown = baseline.Knows(a.Host, BaselineEntry.User, user, a.Access);
            var programKnown = baseline.Knows(a.Host, BaselineEntry.Program, a.ProgramKey, a.Access);
            var interactiveCredentials = a.Interactive && a.Access == AccessClass.Credentials;
            if (userKnown && programKnown && !interactiveCredentials)
            {
                silenced++;
                accesses.Add(a with { Alert = null });
                continue;
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
            accesses.Add(a with { Alert = a.Alert with { FirstSeen = firstSeen, Tags = tags } });
        }
        var alerts = accesses.Where(a => a.Alert is not null).Select(a => a.Alert!).OrderBy(a => a.Timestamp).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
        return new DetectionResult(alerts, accesses);
    }
}
