using KestrelFrames.Transport;

namespace KestrelFrames.Tests.Transport;

public sealed class ConnectionIdsTests
{
    [Fact]
    public void Epoll_ids_look_like_kestrels_but_never_equal_one_of_kestrels_clock_seeded_ids()
    {
        string first = ConnectionIds.Next();
        string second = ConnectionIds.Next();

        Assert.Equal(13, first.Length);
        Assert.NotEqual(first, second);

        // Kestrel's counter starts at the clock's ticks, below 2^60: its ids begin with '0', these never do.
        Assert.True(DateTime.UtcNow.Ticks < 1L << 60);
        Assert.Equal('4', first[0]);
    }
}
