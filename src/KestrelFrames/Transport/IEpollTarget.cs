namespace KestrelFrames.Transport;

/// <summary>What an <see cref="EpollLoop"/> tells of readiness: a listening socket or a connection.</summary>
internal interface IEpollTarget
{
    /// <summary>Runs on the loop's thread, with the events epoll reported (EPOLLIN, EPOLLOUT, ...).</summary>
    void OnEvents(uint events);
}
