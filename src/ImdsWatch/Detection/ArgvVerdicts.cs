using System.Runtime.CompilerServices;
using ImdsWatch.Indicators;

namespace ImdsWatch.Detection;

/// <summary>
/// What <see cref="ReferenceCandidates.MayReference(IReadOnlyList{string})"/> said of an argv array seen before: the
/// audit normalizer hands every exec of a recurring command line the same array (<c>RecurringArrays</c>), and testing
/// it again cost ~4,000 instructions an exec, three quarters of the rules' thread in the full parser. Direct-mapped
/// by the array's identity, a new array in a slot replacing the old: memory is fixed. Only arrays are remembered (an
/// event's argv is never written once the event is made, and an array cannot grow). One thread.
/// </summary>
internal sealed class ArgvVerdicts(DetectionRules rules)
{
    private const int Slots = 1 << 10;

    private readonly string[]?[] _arrays = new string[Slots][];
    private readonly bool[] _verdicts = new bool[Slots];

    /// <summary>As <see cref="ReferenceCandidates.MayReference(IReadOnlyList{string})"/>.</summary>
    public bool MayReference(IReadOnlyList<string> args)
    {
        if (args is not string[] { Length: > 0 } array)
            return rules.Candidates.MayReference(args);
        var slot = RuntimeHelpers.GetHashCode(array) & (Slots - 1);
        if (ReferenceEquals(_arrays[slot], array))
            return _verdicts[slot];
        var verdict = rules.Candidates.MayReference(array);
        _arrays[slot] = array;
        _verdicts[slot] = verdict;
        return verdict;
    }
}
