namespace KestrelFrames.Soak;

/// <summary>What one client kind met on one target: attempts, outcomes by label, and the first few problems.</summary>
internal sealed class KindTally(ISoakClient client, SoakTarget target)
{
    private const int ProblemsKept = 5;

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly List<string> _problems = [];
    private long _attempts;
    private long _expected;
    private long _unexpected;
    private long _failures;
    private long _answers;
    private double _maxSeconds;

    public string Kind => client.Kind;

    public string Target => target.Name;

    public bool IsGood => client.IsGood;

    public long Attempts { get { lock (_lock) { return _attempts; } } }

    public long Expected { get { lock (_lock) { return _expected; } } }

    public long Unexpected { get { lock (_lock) { return _unexpected; } } }

    public long Failures { get { lock (_lock) { return _failures; } } }

    /// <summary>Answers checked byte for byte (requests and heartbeats).</summary>
    public long Answers { get { lock (_lock) { return _answers; } } }

    public IReadOnlyList<string> Problems { get { lock (_lock) { return [.. _problems]; } } }

    public void Add(Outcome outcome, TimeSpan elapsed)
    {
        lock (_lock)
        {
            _attempts++;
            _answers += outcome.Echoes;
            _maxSeconds = Math.Max(_maxSeconds, elapsed.TotalSeconds);
            _outcomes[outcome.Label] = _outcomes.GetValueOrDefault(outcome.Label) + 1;
            switch (outcome.Verdict)
            {
                case Verdict.Expected:
                    _expected++;
                    return;
                case Verdict.Unexpected:
                    _unexpected++;
                    break;
                default:
                    _failures++;
                    break;
            }

            if (_problems.Count < ProblemsKept)
            {
                string severity = outcome.Verdict == Verdict.Failure ? "FAIL" : "note";
                _problems.Add($"{severity} {client.Kind}/{target.Name} at {elapsed.TotalSeconds:0.0} s into the attempt: {outcome.Label}: {outcome.Detail}");
            }
        }
    }

    public object ToJson()
    {
        lock (_lock)
        {
            return new
            {
                kind = client.Kind,
                target = target.Name,
                good = client.IsGood,
                attempts = _attempts,
                expected = _expected,
                unexpected = _unexpected,
                failures = _failures,
                answers_checked = _answers,
                longest_attempt_s = Math.Round(_maxSeconds, 2),
                outcomes = new SortedDictionary<string, long>(_outcomes, StringComparer.Ordinal),
            };
        }
    }
}
