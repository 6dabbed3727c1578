namespace Platform.Render.Sessions;

/// <summary>
/// Sends media items at their due times (<see cref="OutputPacer.Due"/>) from one dedicated thread for all the streams of
/// a process, as a WebRTC stack's pacer thread does. The thread sleeps until the next item is due, so the scheduler wakes
/// it promptly even when every core is busy rendering; thread-pool timers would queue the send behind that work. A send
/// is a quick hand-over (to a socket's queue): it runs on this thread, so it must not block, and one that throws does not
/// stop the others.
/// </summary>
public sealed class PacedSender : IDisposable
{
    private readonly PriorityQueue<Action, (long Due, long Seq)> _queue = new();
    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private readonly Thread? _thread;
    private long _seq;
    private bool _stopped;
    private long _failures;

    /// <param name="clock">The clock the due times are on.</param>
    /// <param name="startThread">False for tests that call <see cref="RunDue"/> themselves after moving a fake clock.</param>
    public PacedSender(TimeProvider clock, bool startThread = true)
    {
        _clock = clock;
        if (startThread)
        {
            _thread = new Thread(Loop) { IsBackground = true, Name = "paced-sender", Priority = ThreadPriority.AboveNormal };
            _thread.Start();
        }
    }

    /// <summary>Sends that threw.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Items waiting.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Runs <paramref name="send"/> at <paramref name="due"/> (a timestamp of the clock); items due at the same
    /// time run in the order they were given.</summary>
    public void Schedule(long due, Action send)
    {
        ArgumentNullException.ThrowIfNull(send);
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            var head = _queue.TryPeek(out _, out var first) ? first.Due : long.MaxValue;
            _queue.Enqueue(send, (due, _seq++));
            if (due < head)
            {
                Monitor.Pulse(_gate);
            }
        }
    }

    /// <summary>Runs every item due by now, in order; returns the timestamp of the next one, or null when none waits.</summary>
    public long? RunDue()
    {
        while (true)
        {
            Action send;
            lock (_gate)
            {
                if (!_queue.TryPeek(out send!, out var key))
                {
                    return null;
                }

                if (key.Due > _clock.GetTimestamp())
                {
                    return key.Due;
                }

                _queue.Dequeue();
            }

            try
            {
                send();
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _failures);
            }
        }
    }

    private void Loop()
    {
        while (true)
        {
            var next = RunDue();
            lock (_gate)
            {
                if (_stopped)
                {
                    return;
                }

                if (_queue.TryPeek(out _, out var key) && key.Due != next)
                {
                    continue; // an earlier item came while the last ones were sent
                }

                if (next is not { } due)
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                var wait = (due - _clock.GetTimestamp()) * 1000.0 / _clock.TimestampFrequency;
                if (wait > 0)
                {
                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Max(1, wait)));
                }
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            _queue.Clear();
            Monitor.PulseAll(_gate);
        }

        _thread?.Join();
    }
}
