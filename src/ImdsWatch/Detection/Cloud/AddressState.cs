namespace ImdsWatch.Detection.Cloud;

/// <summary>People seen calling from one address (IAM users, root, console and federated sessions), and the
/// instances they sent commands to from it. Bounded.</summary>
internal sealed class AddressState
{
    public const int MaxPeople = 3;

    public List<string> People { get; } = [];
    public HashSet<string> CommandedInstances { get; } = new(StringComparer.Ordinal);

    public void Add(string person, IReadOnlyList<string> commanded)
    {
        if (People.Count < MaxPeople && !People.Contains(person))
            People.Add(person);
        foreach (var instance in commanded)
        {
            if (CommandedInstances.Count < 32)
                CommandedInstances.Add(instance);
        }
    }
}
