using Orleans.Configuration;

namespace Platform.Silo.Hosting;

/// <summary>
/// Failure detection bound. A silo that stops answering is probed every second; after 3 missed probes (≈ 3 s) by
/// 2 of its monitors it is voted dead. With the 1 s table refresh that gives a declared death within about 5 s and
/// always under 10 s (the bound the tests and the README state). A silo that dies cleanly is removed at once.
/// </summary>
public static class ClusterTuning
{
    /// <summary>The documented upper bound for declaring a crashed silo dead.</summary>
    public static readonly TimeSpan FailureDetectionBound = TimeSpan.FromSeconds(10);

    public static void Apply(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.NumMissedProbesLimit = 3;
        o.NumVotesForDeathDeclaration = 2;
        o.NumProbedSilos = 3;
        o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
        o.DefunctSiloCleanupPeriod = TimeSpan.FromHours(1);
        o.DefunctSiloExpiration = TimeSpan.FromDays(1);
    }
}
