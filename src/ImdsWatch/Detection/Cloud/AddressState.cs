namespace ImdsWatch.Detection.Cloud;

/// <summary>People seen calling from one address (IAM users, root, console and federated sessions), and the
/// instances they sent commands to from it. Bounded.</summary>
internal sealed class AddressState
{
    public const int MaxPeople = 3;

    private static readonly HashSet<string> NoInstances = [];
    private HashSet<string>? _commanded;

    public List<string> People { get; } = new(1);

    /// <summary>Instances sent commands to from here (made only when there are some: most addresses have none).</summary>
    public IReadOnlySet<string> CommandedInstances => _commanded ?? NoInstances;

    public void Add(string person, IReadOnlyList<string> commanded)
    {
        if (People.Count < MaxPeople && !People.Contains(person))
            People.Add(person);
        foreach (var instance in commanded)
        {
            _commanded ??= new HashSet<string>(StringComparer.Ordinal);
            if (_commanded.Count < 32)
                _commanded.Add(instance);
        }
    }
}
