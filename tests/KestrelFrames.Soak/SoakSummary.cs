using System.Text.Json;

namespace KestrelFrames.Soak;

/// <summary>
/// The run's verdict. It passes when every worker finished, no attempt broke a promise of the protocol, and every
/// kind on every target got its expected outcome at least once (a kind that never did was not tested at all).
/// Unexpected outcomes of hostile kinds are listed but do not fail the run.
/// </summary>
internal sealed class SoakSummary(IReadOnlyList<KindTally> tallies, bool finished, string? crash, TimeSpan elapsed)
{
    public bool Passed => Reasons.Count == 0;

    /// <summary>Why the run fails, one line each; empty when it passes.</summary>
    public IReadOnlyList<string> Reasons
    {
        get
        {
            var reasons = new List<string>();
            if (crash is not null)
            {
                reasons.Add("a client worker crashed (a bug of the soak tool): " + crash);
            }
            else if (!finished)
            {
                reasons.Add("some workers did not finish within their limits: a connection hung");
            }

            foreach (KindTally tally in tallies)
            {
                if (tally.Failures > 0)
                {
                    reasons.Add($"{tally.Kind}/{tally.Target}: {tally.Failures} of {tally.Attempts} attempts broke the protocol");
                }

                if (tally.Expected == 0)
                {
                    reasons.Add($"{tally.Kind}/{tally.Target}: no attempt got its expected outcome ({tally.Attempts} attempts)");
                }
            }

            return reasons;
        }
    }

    /// <summary>The first few attempts of each kind that were not as expected, failures and notes alike.</summary>
    public IReadOnlyList<string> Problems => [.. tallies.SelectMany(t => t.Problems)];

    public string ToJson() => JsonSerializer.Serialize(new
    {
        passed = Passed,
        elapsed_s = Math.Round(elapsed.TotalSeconds, 1),
        good = new
        {
            connections = tallies.Where(t => t.IsGood).Sum(t => t.Attempts),
            answers_checked = tallies.Where(t => t.IsGood).Sum(t => t.Answers),
            failures = tallies.Where(t => t.IsGood).Sum(t => t.Failures),
        },
        hostile = new
        {
            connections = tallies.Where(t => !t.IsGood).Sum(t => t.Attempts),
            expected = tallies.Where(t => !t.IsGood).Sum(t => t.Expected),
            unexpected = tallies.Where(t => !t.IsGood).Sum(t => t.Unexpected),
            failures = tallies.Where(t => !t.IsGood).Sum(t => t.Failures),
        },
        reasons = Reasons,
        problems = Problems,
        kinds = tallies.Select(t => t.ToJson()).ToArray(),
    });
}
